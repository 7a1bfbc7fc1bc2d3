/**
 * Payer deny-lists at synth: `x402:deniedPayers` (addresses) and `x402:deniedPayersFile` (a file
 * read at synth and baked into the viewer-request, so updating it is an edit and a `cdk deploy`).
 * The file is one address per line (`#` comments); `cdk-x402 denylist import` writes it from the
 * OFAC SDN list (its "Digital Currency Address - <currency> <address>" entries) or a plain list.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { toChecksumAddress } from './address';
import type { Problems } from './problems';
import type { Engine } from './settings';

/**
 * Every address is baked into the viewer-request bundle (≤ 300 KB zipped): 42 bytes each, and hex
 * hardly compresses. The SDN list names a few hundred EVM addresses.
 */
export const MAX_DENIED_PAYERS = 2_000;

/** An entry of a deny-list file that is not an EVM address. */
export interface DenyListLineProblem {
  readonly line: number;
  readonly text: string;
  readonly problem: string;
}

export interface ParsedDenyList {
  /** The file is the OFAC SDN CSV (it has "Digital Currency Address" entries), else a plain list. */
  readonly format: 'sdn' | 'plain';
  /** EVM addresses, EIP-55 checksummed, without repeats, in the order found. */
  readonly addresses: readonly string[];
  /** SDN digital-currency entries of chains without EVM addresses (XBT, TRX, ...): not payers here. */
  readonly otherCurrencies: number;
  /** Addresses listed more than once. */
  readonly repeats: number;
  readonly problems: readonly DenyListLineProblem[];
}

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SDN_DIGITAL_CURRENCY = /Digital Currency Address - ([A-Za-z0-9.]+)\s+([^\s;,"]+)/g;

/** Why an entry is not an address to deny, or undefined (one case is accepted: lists print lower case). */
export function deniedAddressProblem(value: string): string | undefined {
  if (!EVM_ADDRESS.test(value)) return 'is not an EVM address (0x followed by 40 hex digits)';
  const mixedCase = value.slice(2) !== value.slice(2).toLowerCase() && value.slice(2) !== value.slice(2).toUpperCase();
  if (mixedCase && toChecksumAddress(value) !== value) return 'fails its EIP-55 checksum: at least one character is mistyped';
  return undefined;
}

/** Reads an SDN CSV or a plain one-address-per-line list (pure: the caller reads the file). */
export function parseDenyList(text: string): ParsedDenyList {
  const seen = new Set<string>();
  const addresses: string[] = [];
  const problems: DenyListLineProblem[] = [];
  let repeats = 0;
  let otherCurrencies = 0;
  const add = (address: string) => {
    const key = address.toLowerCase();
    if (seen.has(key)) repeats++;
    else {
      seen.add(key);
      addresses.push(toChecksumAddress(key));
    }
  };
  const lines = text.split(/\r?\n/);
  const format = lines.some((line) => line.includes('Digital Currency Address - ')) ? 'sdn' : 'plain';
  lines.forEach((raw, index) => {
    if (format === 'sdn') {
      for (const [, , written] of raw.matchAll(SDN_DIGITAL_CURRENCY)) {
        // The remarks end with a full stop.
        const address = written.replace(/\.$/, '');
        if (!address.startsWith('0x')) otherCurrencies++;
        else {
          const problem = deniedAddressProblem(address);
          if (problem) problems.push({ line: index + 1, text: address, problem });
          else add(address);
        }
      }
      return;
    }
    const entry = raw.replace(/#.*/, '').trim();
    if (entry === '') return;
    const problem = deniedAddressProblem(entry);
    if (problem) problems.push({ line: index + 1, text: entry, problem });
    else add(entry);
  });
  return { format, addresses, otherCurrencies, repeats, problems };
}

/** The file `x402:deniedPayersFile` points at: a header saying where it came from, then one address a line. */
export function denyListFileText(addresses: readonly string[], source: string, at: Date): string {
  return [
    '# Payer addresses cdk-x402 refuses (403 payer_denied), one a line; read by `cdk synth`, so an edit takes effect with the next `cdk deploy`.',
    `# Written by \`cdk-x402 denylist import ${source}\` at ${at.toISOString()}: ${addresses.length} addresses.`,
    ...addresses,
    '',
  ].join('\n');
}

/**
 * The denied payers of the settings, lower case, for the edge config: both sources merged, each
 * entry checked. The file path is relative to the directory `cdk synth` runs in (the CDK app's).
 */
export function resolveDeniedPayers(
  problems: Problems,
  settings: { readonly deniedPayers?: readonly string[]; readonly deniedPayersFile?: string },
  engine: Engine,
  payTo: string | undefined,
): string[] | undefined {
  if (settings.deniedPayers === undefined && settings.deniedPayersFile === undefined) return undefined;
  if (engine === 'waf') {
    const key = settings.deniedPayers !== undefined ? 'x402:deniedPayers' : 'x402:deniedPayersFile';
    problems.add(key, settings.deniedPayers ?? settings.deniedPayersFile, 'needs the edge engine: AWS WAF monetization cannot refuse a payer by address', 'use x402:engine=edge, or remove the deny-list');
    return undefined;
  }
  const denied = new Set<string>();
  for (const entry of settings.deniedPayers ?? []) {
    const problem = typeof entry === 'string' ? deniedAddressProblem(entry) : 'is not a string';
    if (problem) problems.add('x402:deniedPayers', entry, problem, 'copy each address again from the sanctions list or the receipt: 0x followed by 40 hex digits, checksummed or all in one case');
    else denied.add(entry.toLowerCase());
  }
  if (settings.deniedPayersFile !== undefined) {
    for (const address of fileAddresses(problems, settings.deniedPayersFile)) denied.add(address.toLowerCase());
  }
  if (payTo !== undefined && denied.has(payTo.toLowerCase())) {
    problems.add('x402:deniedPayers', payTo, 'denies x402:payTo, the address that receives the payments', 'remove your own address from the deny-list');
  }
  if (denied.size > MAX_DENIED_PAYERS) {
    problems.add('x402:deniedPayersFile', `${denied.size} addresses`, `lists more than ${MAX_DENIED_PAYERS} addresses, which the viewer-request bundle (≤ 300 KB zipped) cannot carry`, 'keep only EVM addresses that can pay on x402:network');
  }
  return [...denied].sort();
}

function fileAddresses(problems: Problems, file: string): readonly string[] {
  const key = 'x402:deniedPayersFile';
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    problems.add(key, file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}) from ${process.cwd()}`, `write it with \`cdk-x402 denylist import <sdn.csv> --out ${file}\`, or give a path relative to the CDK app's directory`);
    return [];
  }
  const parsed = parseDenyList(text);
  for (const { line, text: entry, problem } of parsed.problems.slice(0, 5)) {
    problems.add(key, entry, `line ${line} ${problem}`, `fix or delete line ${line} of ${file} (one address a line, # starts a comment)`);
  }
  if (parsed.problems.length > 5) problems.add(key, file, `has ${parsed.problems.length - 5} more lines that are not addresses`, `run \`cdk-x402 denylist import ${file} --out ${file}\` to see them all`);
  return parsed.addresses;
}
