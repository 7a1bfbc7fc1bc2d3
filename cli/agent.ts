/**
 * `cdk-x402 agent plan`: the agent side of passes. Reads a priced URL's 402, prints whether a pass
 * or paying per request is cheaper for the planned reads (cli/pass-plan.ts), and with `--buy` buys
 * the cheaper pass with the official x402 client, printing the pass token.
 */
import { x402Client } from '@x402/core/client';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { toClientEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { UptoEvmScheme } from '@x402/evm/upto/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import { privateKeyToAccount } from 'viem/accounts';
import type { PrivateKeyAccount } from 'viem';
import { CliError, ExitCode } from './errors';
import { table } from './format';
import { offeredPasses, perRequestPrice, planReads, type Plan } from './pass-plan';

/**
 * The official x402 client paying as `account`: `exact` on its default v2 and v1 EVM networks, and
 * `upto` (Permit2; the account needs its one-time approval, `chain.approvePermit2` locally) on v2 EVM networks.
 */
export function officialClientFor(account: PrivateKeyAccount): x402Client {
  const signer = toClientEvmSigner(account);
  const client = new x402Client();
  registerExactEvmScheme(client, { signer });
  return client.register('eip155:*', new UptoEvmScheme(signer));
}

export interface AgentPlanOptions {
  readonly url: string;
  readonly reads: number;
  readonly periodSeconds?: number;
  /** Buy the pass when it is the cheaper way, paying with the key in this environment variable. */
  readonly buyWithKeyFrom?: string;
}

/** What a pass sale answers (docs/passes.md, "Buying a pass"). */
export interface BoughtPass {
  readonly pass: string;
  readonly name: string;
  readonly scope: readonly string[];
  readonly notBefore: string;
  readonly expiresAt: string;
  readonly passId: string;
  readonly payer: string;
}

export interface AgentPlanResult {
  readonly url: string;
  readonly plan: Plan;
  readonly bought?: BoughtPass;
}

export async function agentPlan(options: AgentPlanOptions, env: Readonly<Record<string, string | undefined>>, progress: (text: string) => void): Promise<AgentPlanResult> {
  const account = options.buyWithKeyFrom === undefined ? undefined : accountFrom(env, options.buyWithKeyFrom);
  const response = await fetchOrFail(options.url);
  const header = response.headers.get('payment-required');
  if (response.status !== 402 || !header) {
    throw new CliError(`${options.url} answered ${response.status}${header ? '' : ' without a PAYMENT-REQUIRED header'}: there is nothing to plan`, ExitCode.usage, 'give a URL of a priced route (an x402 v2 402 answer)');
  }
  const required = decodePaymentRequiredHeader(header);
  const plan = planReads({ reads: options.reads, periodSeconds: options.periodSeconds }, perRequestPrice(required.accepts), offeredPasses(required.extensions));
  if (!account) return { url: options.url, plan };
  if (plan.best.way !== 'pass') {
    progress('Paying per request is the cheaper way: no pass bought.');
    return { url: options.url, plan };
  }
  const saleUrl = onSameSite(plan.best.url!, options.url);
  progress(`Buying the "${plan.best.pass}" pass at ${saleUrl}…`);
  const sale = await wrapFetchWithPayment(fetch, officialClientFor(account))(saleUrl);
  const body = await sale.text();
  if (sale.status !== 200) throw new CliError(`the pass sale answered ${sale.status}: ${body}`, ExitCode.failure, 'check the key\'s balance of the asset, then run again');
  return { url: options.url, plan, bought: JSON.parse(body) as BoughtPass };
}

export function formatAgentPlan(result: AgentPlanResult): string {
  const { plan } = result;
  const rows = plan.options.map((option) => [
    option === plan.best ? '*' : '',
    option.way === 'pass' ? `pass "${option.pass}"${option.passes! > 1 ? ` ×${option.passes}` : ''}` : 'per request',
    option.total,
    String(option.payments),
  ]);
  const lines = [
    `${plan.reads} reads of ${result.url}${plan.periodSeconds === undefined ? '' : ` over ${plan.periodSeconds} s`}:`,
    table(['', 'way', 'total (atomic units)', 'payments'], rows, [2, 3]),
    ...plan.skipped.map((s) => `Not compared: pass "${s.pass}", ${s.reason}.`),
    `Cheapest: ${plan.best.way === 'pass' ? `the "${plan.best.pass}" pass (${plan.best.url})` : 'paying per request'}.`,
  ];
  if (result.bought) lines.push('', `Bought the "${result.bought.name}" pass, valid until ${result.bought.expiresAt} (passId ${result.bought.passId}).`, 'Send "Authorization: Bearer <pass>" with each request in its scope:', result.bought.pass);
  return `${lines.join('\n')}\n`;
}

/** The advertised sale URL on the scheme and port of the URL the agent reads, when it names the same host. */
function onSameSite(saleUrl: string, readUrl: string): string {
  const sale = new URL(saleUrl);
  const read = new URL(readUrl);
  return sale.hostname === read.hostname ? new URL(`${sale.pathname}${sale.search}`, read).toString() : saleUrl;
}

/** The payer's account from a hex private key in an environment variable (never on the command line, where `ps` shows it). */
export function accountFrom(env: Readonly<Record<string, string | undefined>>, variable: string): PrivateKeyAccount {
  const key = env[variable]?.trim();
  if (!key) throw new CliError(`--key-env ${variable}: the variable is not set`, ExitCode.usage, `export ${variable}=0x<the payer's 32-byte private key in hex>`);
  return accountFromKey(key, `--key-env ${variable}`);
}

/** The account of a hex private key read from `source` (named in the error). */
export function accountFromKey(key: string, source: string): PrivateKeyAccount {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new CliError(`${source}: the value is not a 32-byte hex private key`, ExitCode.usage, 'use 0x followed by 64 hex digits');
  return privateKeyToAccount(key as `0x${string}`);
}

export async function fetchOrFail(url: string, fetchImpl: typeof fetch = fetch): Promise<Response> {
  try {
    return await fetchImpl(url);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${url} could not be fetched: ${(error as Error).message}`, ExitCode.failure, 'check the URL and the network');
  }
}
