/**
 * `cdk-x402 pay <url>`: reads a URL as an agent would, paying its 402 with the official x402 client
 * under a spending policy (cli/paying-fetch.ts); `--dry-run` prints the 402's terms and what the
 * policy says of each, and signs nothing. For testing a deployed site from a shell (docs/cli.md).
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import type { SettleResponse } from '@x402/core/types';
import type { PrivateKeyAccount } from 'viem';
import { accountFrom, accountFromKey, fetchOrFail } from './agent';
import { CliError, ExitCode } from './errors';
import { table } from './format';
import { payingFetch, refusalOf, SpendingLedger, SpendingRefused, usdc, USDC_DECIMALS, type SpendingPolicy } from './paying-fetch';
import { KNOWN_NETWORKS } from '../lambda/core/networks';
import { priceToAtomicUnits } from '../lambda/core/price';

export const DEFAULT_MAX_USDC = '0.01';
export const DEFAULT_BUDGET_USDC = '1';
export const defaultLedgerFile = () => path.join(os.homedir(), '.cdk-x402', 'spending.json');

export interface PayCommandOptions {
  readonly max: string;
  readonly budget: string;
  readonly ledger: string;
  /** Comma-separated CAIP-2 networks; default: the known networks (Base, Base Sepolia). */
  readonly network?: string;
  /** Comma-separated token contracts; default: the USDC of each allowed known network. */
  readonly asset?: string;
  readonly dryRun?: boolean;
  readonly keyFile?: string;
  readonly keyEnv?: string;
}

export interface OfferedTerms {
  readonly scheme: string;
  readonly network: string;
  readonly asset: string;
  readonly amount: string;
  readonly payTo: string;
  /** Why the policy would not pay it; absent when it would. */
  readonly refused?: string;
}

export interface PayResult {
  readonly url: string;
  readonly status: number;
  readonly dryRun: boolean;
  /** The 402's terms with the policy's verdict (dry run, or the first answer was a 402). */
  readonly terms?: readonly OfferedTerms[];
  /** The site's settlement (PAYMENT-RESPONSE) when it was paid. */
  readonly settlement?: SettleResponse;
  readonly body?: string;
}

export function spendingPolicyFrom(options: PayCommandOptions, now: () => number): SpendingPolicy {
  const networks = listOf(options.network) ?? KNOWN_NETWORKS.map((n) => n.caip2);
  const assets =
    listOf(options.asset) ??
    networks.map((network) => {
      const known = KNOWN_NETWORKS.find((n) => n.caip2 === network);
      if (!known) throw new CliError(`--network ${network}: no default asset is known for it`, ExitCode.usage, `name its USDC contract with --asset 0x...`);
      return known.usdc.address;
    });
  return { maxPerRequest: usdcAmount(options.max, '--max'), dailyBudget: usdcAmount(options.budget, '--budget'), ledger: new SpendingLedger(options.ledger), networks, assets, now };
}

export async function pay(url: string, options: PayCommandOptions, env: Readonly<Record<string, string | undefined>>, now: () => number): Promise<PayResult> {
  const policy = spendingPolicyFrom(options, now);
  if (options.dryRun) {
    const answer = await fetchOrFail(url, fetch);
    if (answer.status !== 402) return { url, status: answer.status, dryRun: true };
    const terms = termsOf(url, answer, policy);
    if (terms.every((t) => t.refused)) throw refused(url, terms.map((t) => t.refused!), { terms });
    return { url, status: 402, dryRun: true, terms };
  }
  const account = payerAccount(options, env);
  const response = await fetchOrFail(url, async (input, init) => {
    try {
      return await payingFetch(fetch, account, policy)(input, init);
    } catch (error) {
      // A refusal is the policy's answer, not a network failure.
      if (error instanceof SpendingRefused) throw refused(url, error.reasons);
      throw error;
    }
  });
  const body = await response.text();
  const header = response.headers.get('payment-response');
  const settlement = header ? decodePaymentResponseHeader(header) : undefined;
  if (!response.ok) {
    throw new CliError(`${url} answered ${response.status}${settlement ? ' after the payment' : ''}: ${body.slice(0, 500)}`, ExitCode.failure, 'the answer says why; a 402 after paying names the payment\'s problem (e.g. the key\'s balance)', { status: response.status, settlement });
  }
  return { url, status: response.status, dryRun: false, settlement, body };
}

export function formatPayTerms(result: PayResult): string {
  if (!result.terms) return `${result.url} answered ${result.status}: nothing to pay.\n`;
  const rows = result.terms.map((t) => [t.scheme, t.network, t.asset, usdc(t.amount), t.payTo, t.refused ? `refused: ${t.refused.replace(/^[^:]*: /, '')}` : 'would pay']);
  return `${result.url} asks (dry run, nothing signed):\n${table(['scheme', 'network', 'asset', 'amount', 'pay to', 'policy'], rows, [3])}\n`;
}

export function formatPaid(result: PayResult): string {
  const s = result.settlement;
  return s ? `Paid: ${result.url} answered ${result.status}; settled on ${s.network} by ${s.payer ?? 'the payer'}, transaction ${s.transaction}.` : `${result.url} answered ${result.status} without asking for payment: nothing paid.`;
}

function termsOf(url: string, answer: Response, policy: SpendingPolicy): OfferedTerms[] {
  const header = answer.headers.get('payment-required');
  if (!header) throw new CliError(`${url} answered 402 without a PAYMENT-REQUIRED header`, ExitCode.failure, 'the site does not speak x402 v2');
  return decodePaymentRequiredHeader(header).accepts.map((r) => ({ scheme: r.scheme, network: r.network, asset: r.asset, amount: r.amount, payTo: r.payTo, refused: refusalOf(r, policy) }));
}

function refused(url: string, reasons: readonly string[], details?: Record<string, unknown>): CliError {
  return new CliError(`refused to pay ${url}, nothing signed: ${reasons.join('; ')}`, ExitCode.refused, 'raise the option named in the reason if the terms are acceptable', details);
}

function usdcAmount(text: string, flag: string): bigint {
  const parsed = priceToAtomicUnits(`$${text.trim().replace(/^\$/, '')}`, USDC_DECIMALS);
  if ('error' in parsed) throw new CliError(`${flag} ${JSON.stringify(text)} is not a positive USDC amount with at most ${USDC_DECIMALS} decimals`, ExitCode.usage, `e.g. ${flag} 0.05`);
  return BigInt(parsed.amount);
}

const listOf = (text: string | undefined) => (text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean));

/** The payer's key from a file or an environment variable: never from the command line, where `ps` and the shell history show it. */
function payerAccount(options: PayCommandOptions, env: Readonly<Record<string, string | undefined>>): PrivateKeyAccount {
  if (!options.keyFile === !options.keyEnv) throw new CliError('pay needs exactly one of --key-file or --key-env: where the paying key is', ExitCode.usage, 'add --key-env AGENT_KEY (and export AGENT_KEY=0x...), or --key-file <file holding 0x...>; --dry-run needs no key');
  if (!options.keyFile) return accountFrom(env, options.keyEnv!);
  const source = `--key-file ${options.keyFile}`;
  try {
    return accountFromKey(readFileSync(options.keyFile, 'utf8').trim(), source);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${source}: ${(error as Error).message}`, ExitCode.usage, 'name a readable file holding the key (0x + 64 hex digits)');
  }
}
