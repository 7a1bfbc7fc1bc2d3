/**
 * The `upto` scheme at the edge: the agent signs a Permit2 witness transfer for a maximum through
 * the x402 upto proxy, and the origin reports what the request actually cost (docs/metering.md).
 * Pure: the facilitator's address comes in through {@link FacilitatorAddress}'s port.
 */
import { getAddress, hashTypedData, hexToBytes, isAddress, isHex, type Address, type Hex } from 'viem';
import type { EdgeConfig } from './config';
import { evmChainId } from './networks';
import { DECIMAL_UINT256, EOA_SIGNATURE_HEX_LENGTH } from './payment-header';
import type { Clock, LogSink } from './ports';
import { priceToAtomicUnits } from './price';
import { reject, Reasons, type Rejection } from './rejection';
import type { RouteTerms } from './requirements';
import { recoverSigner } from './secp256k1';

/** Canonical Permit2 and x402 upto proxy addresses (test/unit/upto.test.ts checks them against @x402/evm). */
export const PERMIT2_ADDRESS: Address = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
export const UPTO_PROXY_ADDRESS: Address = '0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002';

/** How long a container trusts the facilitator address it read from /supported. */
export const FACILITATOR_ADDRESS_TTL_MS = 10 * 60_000;
/** After a failed /supported, the next request tries again no sooner than this. */
const FACILITATOR_ADDRESS_RETRY_MS = 5_000;

/** The facilitator's `/supported` answer, as much of it as the edge reads. */
export interface SupportedKinds {
  readonly kinds: readonly { readonly scheme: string; readonly network: string; readonly extra?: Record<string, unknown> }[];
}

/**
 * An address the facilitator advertises in its /supported kind of a scheme: the one it settles upto
 * payments from (`extra.facilitatorAddress`, which the Permit2 witness names, so a payment cannot be
 * settled by anyone else), or the receiver authorizer that signs batch-settlement claims
 * (`extra.receiverAuthorizer`, which every channel config names). Read once per container and
 * {@link FACILITATOR_ADDRESS_TTL_MS}; undefined until known (the edge then refuses).
 */
export class FacilitatorAddress {
  private known: { readonly address: Address; readonly until: number } | undefined;
  private retryAfter = 0;
  private inFlight: Promise<Address | undefined> | undefined;

  constructor(
    private readonly supported: (timeoutMs: number) => Promise<SupportedKinds>,
    private readonly network: string,
    private readonly clock: Clock,
    private readonly log: LogSink,
    private readonly kind: { readonly scheme: string; readonly field: string } = { scheme: 'upto', field: 'facilitatorAddress' },
  ) {}

  async get(timeoutMs: number): Promise<Address | undefined> {
    const now = this.clock();
    if (this.known && now < this.known.until) return this.known.address;
    if (now < this.retryAfter) return this.known?.address;
    this.inFlight ??= this.load(timeoutMs).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async load(timeoutMs: number): Promise<Address | undefined> {
    try {
      const answer = await this.supported(timeoutMs);
      const { scheme, field } = this.kind;
      const address = answer.kinds.find((k) => k.scheme === scheme && k.network === this.network)?.extra?.[field];
      if (typeof address !== 'string' || !isAddress(address, { strict: false }) || BigInt(address) === 0n) {
        throw new Error(`/supported lists no ${scheme} kind with extra.${field} on ${this.network}`);
      }
      this.known = { address: getAddress(address), until: this.clock() + FACILITATOR_ADDRESS_TTL_MS };
      return this.known.address;
    } catch (error) {
      this.retryAfter = this.clock() + FACILITATOR_ADDRESS_RETRY_MS;
      this.log({ event: 'x402.facilitator_error', phase: 'supported', error: String(error) });
      // A stale address beats none: the facilitator rarely changes its key, and /verify still decides.
      return this.known?.address;
    }
  }
}

/** An upto route's requirements: the maximum, with what the official upto client needs in `extra`. */
export function uptoExtra(config: Pick<EdgeConfig, 'asset'>, facilitatorAddress: Address): Record<string, unknown> {
  return { name: config.asset.name, version: config.asset.version, assetTransferMethod: 'permit2', facilitatorAddress };
}

/** The Permit2 witness transfer an upto payment carries (the EIP-712 types of @x402/evm's upto scheme). */
export interface UptoAuthorization {
  readonly from: Address;
  readonly token: Address;
  readonly amount: bigint;
  readonly spender: Address;
  readonly nonce: bigint;
  readonly deadline: bigint;
  readonly to: Address;
  readonly facilitator: Address;
  readonly validAfter: bigint;
}

const WITNESS_TYPES = {
  PermitWitnessTransferFrom: [
    { name: 'permitted', type: 'TokenPermissions' },
    { name: 'spender', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
    { name: 'witness', type: 'Witness' },
  ],
  TokenPermissions: [
    { name: 'token', type: 'address' },
    { name: 'amount', type: 'uint256' },
  ],
  Witness: [
    { name: 'to', type: 'address' },
    { name: 'facilitator', type: 'address' },
    { name: 'validAfter', type: 'uint256' },
  ],
} as const;

export function parseUptoPayload(raw: Record<string, unknown>): { authorization: UptoAuthorization; signature: Hex } | Rejection {
  const malformed = (what: string) => reject(400, Reasons.invalidPayload, `upto/EVM payload: ${what}`);
  const signature = raw.signature;
  const auth = raw.permit2Authorization as Record<string, unknown> | undefined;
  if (typeof signature !== 'string' || !isHex(signature) || signature.length < EOA_SIGNATURE_HEX_LENGTH) return malformed('"signature" must be a hex signature');
  if (typeof auth !== 'object' || auth === null) return malformed('"permit2Authorization" is missing');
  const permitted = auth.permitted as Record<string, unknown> | undefined;
  const witness = auth.witness as Record<string, unknown> | undefined;
  if (typeof permitted !== 'object' || permitted === null || typeof witness !== 'object' || witness === null) return malformed('"permitted" and "witness" must be objects');
  const addresses = { from: auth.from, spender: auth.spender, token: permitted.token, to: witness.to, facilitator: witness.facilitator };
  for (const [field, value] of Object.entries(addresses)) {
    if (typeof value !== 'string' || !isAddress(value, { strict: false })) return malformed(`"${field}" must be an address`);
  }
  const numbers = { amount: permitted.amount, nonce: auth.nonce, deadline: auth.deadline, validAfter: witness.validAfter };
  for (const [field, value] of Object.entries(numbers)) {
    if (typeof value !== 'string' || !DECIMAL_UINT256.test(value)) return malformed(`"${field}" must be a decimal integer string`);
  }
  const a = addresses as Record<keyof typeof addresses, string>;
  const n = numbers as Record<keyof typeof numbers, string>;
  return {
    signature: signature as Hex,
    authorization: {
      from: getAddress(a.from),
      spender: getAddress(a.spender),
      token: getAddress(a.token),
      to: getAddress(a.to),
      facilitator: getAddress(a.facilitator),
      amount: BigInt(n.amount),
      nonce: BigInt(n.nonce),
      deadline: BigInt(n.deadline),
      validAfter: BigInt(n.validAfter),
    },
  };
}

/**
 * The witness against the offered terms: the token, the maximum, the proxy as spender, payTo and
 * the facilitator address of the 402. A witness naming another facilitator or spender could be
 * settled past this edge's receipts; a smaller maximum than offered is a refusal, not a discount.
 */
export function uptoWitnessMismatch(authorization: UptoAuthorization, terms: RouteTerms): Rejection | undefined {
  const offered = terms.requirements;
  const facilitator = String(offered.extra.facilitatorAddress ?? '');
  const mismatch = (what: string, got: string, want: string) => reject(402, Reasons.uptoWitnessMismatch, `the Permit2 authorization's ${what} is ${got}, not ${want}`);
  if (authorization.token.toLowerCase() !== offered.asset.toLowerCase()) return mismatch('token', authorization.token, offered.asset);
  if (authorization.amount !== BigInt(offered.amount)) return mismatch('maximum', String(authorization.amount), `the offered maximum ${offered.amount}`);
  if (authorization.spender !== UPTO_PROXY_ADDRESS) return mismatch('spender', authorization.spender, `the x402 upto proxy ${UPTO_PROXY_ADDRESS}`);
  if (authorization.to.toLowerCase() !== offered.payTo.toLowerCase()) return mismatch('witness recipient', authorization.to, offered.payTo);
  if (authorization.facilitator.toLowerCase() !== facilitator.toLowerCase()) return mismatch('witness facilitator', authorization.facilitator, facilitator);
  return undefined;
}

/** Whether the Permit2 signature recovers to `from` (an EOA); otherwise only the facilitator can tell (a smart wallet). */
export function uptoSignatureRecovers(network: string, authorization: UptoAuthorization, signature: Hex): boolean {
  const chainId = evmChainId(network);
  if (chainId === undefined) return false;
  const digest = hashTypedData({
    domain: { name: 'Permit2', chainId, verifyingContract: PERMIT2_ADDRESS },
    types: WITNESS_TYPES,
    primaryType: 'PermitWitnessTransferFrom',
    message: {
      permitted: { token: authorization.token, amount: authorization.amount },
      spender: authorization.spender,
      nonce: authorization.nonce,
      deadline: authorization.deadline,
      witness: { to: authorization.to, facilitator: authorization.facilitator, validAfter: authorization.validAfter },
    },
  });
  return recoverSigner(hexToBytes(digest), signature)?.address === authorization.from.toLowerCase();
}

/**
 * What the origin said the request cost, from its `Settlement-Overrides` header (JSON `{"amount"}`,
 * the forms @x402/core's server reads: atomic units `"1234"`, a percentage of the maximum `"50%"`,
 * or dollars `"$0.002"`), bounded by the signed maximum.
 */
export type ReportedUsage =
  | { readonly kind: 'reported'; readonly amount: bigint }
  /** Above the maximum: charged the maximum (the payer never signed more). */
  | { readonly kind: 'capped'; readonly amount: bigint; readonly reported: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed'; readonly value: string };

export function readUsage(header: string | undefined, maximum: bigint, decimals: number): ReportedUsage {
  if (header === undefined) return { kind: 'missing' };
  let amount: unknown;
  try {
    amount = (JSON.parse(header) as { amount?: unknown } | null)?.amount;
  } catch {
    return { kind: 'malformed', value: header.slice(0, 200) };
  }
  if (typeof amount !== 'string') return { kind: 'malformed', value: header.slice(0, 200) };
  const atomic = usageAmount(amount.trim(), maximum, decimals);
  if (atomic === undefined) return { kind: 'malformed', value: header.slice(0, 200) };
  return atomic > maximum ? { kind: 'capped', amount: maximum, reported: atomic.toString() } : { kind: 'reported', amount: atomic };
}

function usageAmount(amount: string, maximum: bigint, decimals: number): bigint | undefined {
  const percent = /^(\d{1,3})(?:\.(\d{1,2}))?%$/.exec(amount);
  if (percent) return (maximum * (BigInt(percent[1]) * 100n + BigInt((percent[2] ?? '').padEnd(2, '0')))) / 10_000n;
  if (!/^(\$\d+(\.\d+)?|\d+)$/.test(amount)) return undefined;
  // priceToAtomicUnits refuses zero prices; a zero usage is valid (nothing is charged).
  if (/^\$?[0.]+$/.test(amount)) return 0n;
  const parsed = priceToAtomicUnits(amount, decimals);
  return 'error' in parsed ? undefined : BigInt(parsed.amount);
}
