/**
 * Whether a payer is a plain account (EOA) or has contract code, for the one case where it matters:
 * a signature that does not recover to `from`. A contract's (ERC-1271) signature may be valid, and
 * only the facilitator can check it on chain; an EOA's cannot be (USDC checks an EOA's signature
 * by ecrecover alone, exactly what the local check did), so it is a forgery, refused locally.
 *
 * Each answer is one `eth_getCode` through the chain port, never asked for a signature that
 * recovers, and remembered per container (an LRU map, so memory stays bounded) so that repeated
 * checks cost nothing. An unanswered lookup (RPC down, slow, or refusing) is "don't know": the
 * payment goes to the facilitator as it would without an RPC, rate-bounded by the abuse guard.
 */
import { LruMap } from './abuse-guard';
import type { ChainPort, Clock, LogSink } from './ports';

export type AccountKind = 'eoa' | 'contract';

/**
 * How long an answer is trusted. An EOA can gain code (a counterfactual wallet deployed, an
 * EIP-7702 delegation): until then its 1271 signatures are refused, with a clear message, for at
 * most this long. A contract rarely loses its code, and trusting a stale "contract" only sends
 * signatures to the facilitator, as without an RPC.
 */
export const ACCOUNT_KIND_TTL_MS: Readonly<Record<AccountKind, number>> = { eoa: 5 * 60_000, contract: 60 * 60_000 };
/** After a failed lookup, none is tried for this long: a down RPC does not slow every smart-wallet payment. */
export const CHAIN_RPC_BACKOFF_MS = 5_000;

export class AccountKinds {
  private readonly answers: LruMap<{ readonly kind: AccountKind; readonly until: number }>;
  /** Lookups under way, shared by concurrent payments naming the same payer. */
  private readonly pending = new Map<string, Promise<AccountKind | undefined>>();
  private rpcDownUntil = 0;

  constructor(
    private readonly chain: ChainPort,
    /** Each lookup's bound (`chainRpc.timeoutMs`). */
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    private readonly log: LogSink,
    capacity: number,
  ) {
    this.answers = new LruMap(capacity);
  }

  /** The remembered kind, without any call. */
  known(address: string): AccountKind | undefined {
    const answer = this.answers.get(address.toLowerCase());
    return answer && this.clock() < answer.until ? answer.kind : undefined;
  }

  /** Asks the chain, within `remainingMs` at most; undefined when it did not answer. */
  lookup(address: string, remainingMs: number): Promise<AccountKind | undefined> {
    const key = address.toLowerCase();
    const known = this.known(key);
    if (known) return Promise.resolve(known);
    if (this.clock() < this.rpcDownUntil) return Promise.resolve(undefined);
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.ask(key, Math.max(1, Math.min(this.timeoutMs, remainingMs))).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private async ask(key: string, timeoutMs: number): Promise<AccountKind | undefined> {
    try {
      const kind: AccountKind = (await this.chain.hasCode(key, timeoutMs)) ? 'contract' : 'eoa';
      this.answers.set(key, { kind, until: this.clock() + ACCOUNT_KIND_TTL_MS[kind] });
      return kind;
    } catch (error) {
      this.rpcDownUntil = this.clock() + CHAIN_RPC_BACKOFF_MS;
      this.log({ event: 'x402.chain_rpc_error', operation: 'eth_getCode', address: key, error: String(error) });
      return undefined;
    }
  }
}
