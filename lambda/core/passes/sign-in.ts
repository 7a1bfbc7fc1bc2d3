/**
 * Sign in with x: a pass holder that kept no token proves, with the `sign-in-with-x` extension of
 * `@x402/extensions` (CAIP-122; on EVM an EIP-4361 message signed with EIP-191), that it is the
 * wallet that bought a pass, and is admitted as that pass (docs/passes.md, "Signing in with x"). The
 * payer's passes come from the receipt table (the `byPayer` index), cached per container. No
 * facilitator, no settlement. The proof itself is checked by ./sign-in-proof.ts, which the
 * viewer-request hands in (it carries the secp256k1 WASM, which the origin-facing bundles do not).
 */
import { LruMap } from '../abuse-guard';
import type { Clock, LogSink } from '../ports';
import { isRejection, reject, Reasons, type Rejection } from '../rejection';
import { MAX_PASS_SECONDS } from './offers';
import type { PassRecord, PassScheme } from './scheme';
import { PASS_CLOCK_SKEW_SECONDS } from './token';
import { signInChallenge, signInNonce } from './sign-in-challenge';

/** How long a container trusts what the table said about a payer's passes (docs/passes.md). */
export const HELD_PASSES_TTL_SECONDS = 60;
/** ... and that a payer holds none: short, so a pass bought just now opens soon after. */
export const NO_PASS_TTL_SECONDS = 10;
/** Payers whose passes a container remembers (least recently used first out). */
export const HELD_PASSES_CACHE_ENTRIES = 2_000;
/** A proof longer than this is refused before it is decoded (real ones are ~1 KB). */
export const MAX_SIGN_IN_HEADER_LENGTH = 4_096;

/** Where the passes a payer bought are found: the receipt table's `byPayer` index. */
export interface HeldPassesPort {
  /** Passes recorded on `payer`'s receipts (checksummed address) created at or after `sinceIso`, expiring after `nowSeconds`. */
  heldPasses(payer: string, sinceIso: string, nowSeconds: number): Promise<readonly PassRecord[]>;
}


/** Each container's memory of which passes payers hold: one table query per payer per TTL. */
export class HeldPasses {
  private readonly cache: LruMap<{ readonly until: number; readonly passes: Promise<readonly PassRecord[]> }>;

  constructor(
    private readonly port: HeldPassesPort,
    private readonly clock: Clock,
    private readonly log: LogSink,
    capacity: number = HELD_PASSES_CACHE_ENTRIES,
  ) {
    this.cache = new LruMap(capacity);
  }

  /** The payer's unexpired passes; concurrent callers share one query; a failed query is not remembered. */
  async of(payer: string): Promise<readonly PassRecord[]> {
    const now = this.clock();
    const cached = this.cache.get(payer);
    if (cached && now < cached.until) return cached.passes;
    const nowSeconds = Math.floor(now / 1000);
    // A pass lasts at most MAX_PASS_SECONDS: older receipts hold none still valid.
    const since = new Date(now - MAX_PASS_SECONDS * 1000).toISOString();
    const passes = this.port.heldPasses(payer, since, nowSeconds);
    const entry = { until: now + HELD_PASSES_TTL_SECONDS * 1000, passes };
    this.cache.set(payer, entry);
    try {
      const held = await passes;
      if (held.length === 0) this.cache.set(payer, { until: now + NO_PASS_TTL_SECONDS * 1000, passes });
      return held;
    } catch (error) {
      if (this.cache.get(payer) === entry) this.cache.set(payer, { until: 0, passes });
      this.log({ event: 'x402.held_passes_error', payer, error: String(error) });
      throw error;
    }
  }
}

/**
 * Who signed a proof for this site (checksummed), or why it is refused (./sign-in-proof.ts
 * `signedInPayer`). `resource` is the request's `https://<host><path>`.
 */
export type SignInVerifier = (header: string, resource: string, network: string, nowMs: number) => string | Rejection;

/** What a signed-in request is admitted as: the pass it holds that opens the request. */
export interface SignedInPass {
  readonly passId: string;
  /** The payer, lower-case (as in a pass's `sub`). */
  readonly payer: string;
}

/** The sign-in path of the pass scheme: the 402's challenge, and admitting a proof as a held pass. */
export class PassSignIn {
  constructor(
    private readonly scheme: PassScheme,
    private readonly held: HeldPasses,
    private readonly network: string,
    private readonly clock: Clock,
    private readonly verify: SignInVerifier,
  ) {}

  challenge(resource: string): Record<string, unknown> {
    return signInChallenge(resource, this.network, this.clock(), signInNonce());
  }

  /**
   * A proof on a priced request: the pass of the signed-in payer that opens it, else why not (the
   * last pass's refusal, or `sign_in_no_pass`). A table that cannot be read fails closed (503).
   */
  async admit(header: string, routeIndex: number, method: string, path: string, resource: string): Promise<SignedInPass | Rejection> {
    const payer = this.verify(header, resource, this.network, this.clock());
    if (isRejection(payer)) return payer;
    let passes;
    try {
      passes = await this.held.of(payer);
    } catch {
      return reject(503, Reasons.receiptStoreUnavailable, 'passes cannot be looked up right now: present the pass token, or retry', 5);
    }
    const nowSeconds = Math.floor(this.clock() / 1000);
    let refusal: Rejection | undefined;
    for (const pass of passes) {
      // The same validity as a presented token (lambda/core/passes/token.ts), from the recorded terms.
      if (nowSeconds < pass.passNotBefore - PASS_CLOCK_SKEW_SECONDS || nowSeconds >= pass.passExpiresAt + PASS_CLOCK_SKEW_SECONDS) continue;
      const recorded = { pass: pass.passName, scope: pass.passScope, jti: pass.passId, exp: pass.passExpiresAt, ...(pass.passQuota === undefined ? {} : { quota: pass.passQuota }) };
      refusal = this.scheme.refusal(recorded, routeIndex, method, path);
      if (!refusal) return { passId: pass.passId, payer: payer.toLowerCase() };
    }
    return refusal ?? reject(402, Reasons.signInNoPass, `${payer} holds no valid pass of this site: buy one (see the x402-pass offer)`);
  }
}

