/**
 * `cdk-x402 denylist import <file>`: the OFAC SDN CSV (or a plain list of addresses) → the
 * normalized file `x402:deniedPayersFile` points at, which the next `cdk synth` bakes into the edge.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { denyListFileText, parseDenyList, type DenyListLineProblem } from '../lib/config/deny-list';
import { CliError, ExitCode, readTextFile } from './errors';

export interface ImportedDenyList {
  readonly source: string;
  readonly format: 'sdn' | 'plain';
  /** The file written. */
  readonly out: string;
  readonly addresses: number;
  readonly otherCurrencies: number;
  readonly repeats: number;
  /** Entries that look like addresses but are not (the import refuses them unless --skip-invalid). */
  readonly invalid: readonly DenyListLineProblem[];
}

export interface ImportOptions {
  /** Where to write; default: the `x402:deniedPayersFile` of `contextFile`, relative to its directory. */
  readonly out?: string;
  readonly contextFile: string;
  readonly skipInvalid?: boolean;
}

export function importDenyList(source: string, options: ImportOptions, now: number): ImportedDenyList {
  const text = readTextFile(source, 'give the path of the SDN CSV (sdn.csv) or of a list with one address a line');
  const out = options.out ?? configuredFile(options.contextFile);
  const parsed = parseDenyList(text);
  if (parsed.problems.length > 0 && !options.skipInvalid) {
    const lines = parsed.problems.slice(0, 10).map((p) => `  line ${p.line}: ${JSON.stringify(p.text)} ${p.problem}`);
    throw new CliError(`${source} has ${parsed.problems.length} entries that are not EVM addresses (nothing written):\n${lines.join('\n')}`, ExitCode.usage, 'fix those lines, or pass --skip-invalid to leave them out');
  }
  if (parsed.addresses.length === 0) {
    throw new CliError(`${source} holds no EVM address (nothing written)`, ExitCode.usage, 'give the SDN CSV with its "Digital Currency Address - ETH 0x..." remarks, or one address a line');
  }
  writeFileSync(out, denyListFileText(parsed.addresses, path.basename(source), new Date(now)));
  return { source, format: parsed.format, out, addresses: parsed.addresses.length, otherCurrencies: parsed.otherCurrencies, repeats: parsed.repeats, invalid: parsed.problems };
}

/** The path `x402:deniedPayersFile` names in the context file, as seen from here. */
function configuredFile(contextFile: string): string {
  const fix = 'pass --out <file>, and set "x402:deniedPayersFile": "<file>" in the context of cdk.json';
  if (!existsSync(contextFile)) throw new CliError(`no --out, and no ${contextFile} to read x402:deniedPayersFile from`, ExitCode.usage, fix);
  const configured = (JSON.parse(readFileSync(contextFile, 'utf8')) as { context?: Record<string, unknown> }).context?.['x402:deniedPayersFile'];
  if (typeof configured !== 'string' || configured === '') throw new CliError(`no --out, and ${contextFile} sets no x402:deniedPayersFile`, ExitCode.usage, fix);
  return path.resolve(path.dirname(contextFile), configured);
}

export function formatImportedDenyList(result: ImportedDenyList): string {
  const lines = [
    `Read ${result.source} (${result.format === 'sdn' ? 'OFAC SDN CSV' : 'one address a line'}).`,
    `Wrote ${result.out}: ${result.addresses} payer addresses denied.`,
    ...(result.format === 'sdn' ? [`Left out ${result.otherCurrencies} digital-currency addresses of chains without EVM addresses.`] : []),
    ...(result.repeats > 0 ? [`Merged ${result.repeats} repeated entries.`] : []),
    ...(result.invalid.length > 0 ? [`Skipped ${result.invalid.length} invalid entries (--skip-invalid).`] : []),
    'Next: make x402:deniedPayersFile name this file, then `cdk deploy` (the list is baked into the edge at synth).',
  ];
  return `${lines.join('\n')}\n`;
}
