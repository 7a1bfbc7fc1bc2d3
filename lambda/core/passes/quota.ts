/**
 * Request quotas of passes, counted without a table write on the request path (docs/passes.md,
 * "Quota"). Each viewer-request container counts the uses it admitted per pass id and adds them to
 * the pass's counter row in the background (one `ADD` per flush, never awaited by a request),
 * reading the global count back from the write's answer. A use is admitted while
 * `last global count + this container's uses not in it yet < quota`.
 *
 * Exactness: one container alone never admits more than the quota. With C containers serving one
 * pass, each may admit the uses the others have not heard of yet: the overshoot is at most
 * C × flushEvery + (uses per second) × (a flush's round trip). The table never counts a use twice
 * (a flush whose answer was lost is sent again with the same sequence number, and the row applies
 * each container's sequence once), so no holder is refused before the quota; it can miss uses (a
 * container retired before its flush), which only adds to the overshoot.
 *
 * The table unreachable: the pass keeps working on this container's own count (it never exceeds
 * the quota here), and the uses are retried until the table takes them. A holder paid for the
 * pass; an outage of our bookkeeping should not lock them out, and the excess is bounded by the
 * quota per container.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, LogSink } from '../ports';

/** The counter rows: one per pass with a quota, keyed by its id. */
export interface PassUsagePort {
  /**
   * Adds `uses` to the pass's count unless this container's flush `sequence` was applied already
   * (and, with sequence 1, one to its containers); answers both counts after the write, or
   * 'duplicate' when that sequence had been applied (a flush whose first answer was lost).
   */
  addPassUses(passId: string, container: string, sequence: number, uses: number, expiresAt: number): Promise<PassUsage | 'duplicate'>;
}

/** A pass's counter row after a flush: all containers' flushed uses, and how many containers ever flushed. */
export interface PassUsage {
  readonly uses: number;
  readonly containers: number;
}

/** A container flushes a pass's uses at least this often while the pass is used. */
export const QUOTA_FLUSH_SECONDS = 5;
/** ... and after this many uses, or 2% of the quota if fewer (at least 1). */
export const QUOTA_FLUSH_USES = 50;
/**
 * A flush not answered after this long is taken as lost and sent again (same sequence); a failed
 * one is sent again {@link QUOTA_FLUSH_SECONDS} later, so a table outage costs no write per use.
 */
export const QUOTA_FLUSH_TIMEOUT_SECONDS = 10;
/**
 * Near its quota, a container keeps unflushed at most its share (among the containers the table
 * says use the pass) of half the uses it thinks are left. With 10 containers taking turns on a
 * quota of 1000, the table answering at once (test/unit/passes/quota.test.ts), the overshoot is 10
 * uses for 0.08 writes per use; with 100 containers 664 (a fixed 1/25 per container: 9 and 1,719).
 */
const ENDGAME_SHARE = 2;
/** Passes counted per container; the least recently used are flushed and forgotten first. */
export const MAX_COUNTED_PASSES = 1000;

/** Uses between flushes for a quota: 2% of it, within 1..{@link QUOTA_FLUSH_USES}. */
export function flushEvery(quota: number): number {
  return Math.max(1, Math.min(QUOTA_FLUSH_USES, Math.floor(quota / 50)));
}

interface Flush {
  readonly sequence: number;
  readonly uses: number;
  /** When the last attempt was sent (the one whose answer counts). */
  sentAt: number;
  /** When a use sends it again: an answer overdue, or a failed attempt after a pause. */
  retryAt: number;
}

interface PassCount {
  readonly quota: number;
  readonly expiresAt: number;
  /** The global count as the table last answered (all containers' flushed uses). */
  known: number;
  /** Containers that have flushed uses of the pass, as the table last answered (at least this one). */
  containers: number;
  /** Admitted here, not sent yet. */
  unflushed: number;
  inFlight: Flush | undefined;
  sequence: number;
  lastFlushAt: number | undefined;
}

export class PassQuotas {
  /** Identifies this container's flushes on the counter rows (a retried flush is applied once). */
  readonly container = randomBytes(8).toString('base64url');
  private readonly counts = new Map<string, PassCount>();

  constructor(
    private readonly port: PassUsagePort,
    private readonly clock: Clock,
    private readonly log: LogSink,
    private readonly maxPasses: number = MAX_COUNTED_PASSES,
  ) {}

  /**
   * Counts one use of the pass if its quota allows it: true when admitted. Starts a flush in the
   * background when one is due (never awaited).
   */
  admit(passId: string, quota: number, expiresAt: number): boolean {
    const count = this.entry(passId, quota, expiresAt);
    if (count.known + (count.inFlight?.uses ?? 0) + count.unflushed >= count.quota) {
      this.maybeFlush(passId, count);
      return false;
    }
    count.unflushed++;
    this.maybeFlush(passId, count);
    return true;
  }

  /** Flushes every pass with uses not sent yet, and resolves when all answered: for tests and shutdown. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.counts].map(([passId, count]) => this.flush(passId, count)));
  }

  private entry(passId: string, quota: number, expiresAt: number): PassCount {
    let count = this.counts.get(passId);
    if (count) {
      // Most recently used last: the map's first entry is the one to evict.
      this.counts.delete(passId);
    } else {
      count = { quota, expiresAt, known: 0, containers: 1, unflushed: 0, inFlight: undefined, sequence: 0, lastFlushAt: undefined };
      if (this.counts.size >= this.maxPasses) this.evictOldest();
    }
    this.counts.set(passId, count);
    return count;
  }

  private evictOldest(): void {
    const [passId, count] = this.counts.entries().next().value as [string, PassCount];
    this.counts.delete(passId);
    // One last try for its uses; a pass used again later starts from the table's count.
    void this.flush(passId, count);
  }

  private maybeFlush(passId: string, count: PassCount): void {
    const now = this.clock();
    const flight = count.inFlight;
    if (flight) {
      if (now >= flight.retryAt) void this.send(passId, count, flight);
      return;
    }
    const due =
      count.lastFlushAt === undefined || // the first use: learn the global count at once
      count.unflushed >= this.flushThreshold(count) ||
      (count.unflushed > 0 && now - count.lastFlushAt >= QUOTA_FLUSH_SECONDS * 1000);
    if (due) void this.flush(passId, count);
  }

  /**
   * Uses kept before a flush: {@link flushEvery}, and near the end this container's share of
   * 1/{@link ENDGAME_SHARE} of what it thinks is left, so the last uses are flushed one by one
   * (where overshoot happens) and the bulk in batches (where writes are spent).
   */
  private flushThreshold(count: PassCount): number {
    const left = count.quota - count.known - (count.inFlight?.uses ?? 0) - count.unflushed;
    return Math.max(1, Math.min(flushEvery(count.quota), Math.floor(left / (ENDGAME_SHARE * count.containers))));
  }

  private flush(passId: string, count: PassCount): Promise<void> {
    if (count.inFlight) return this.send(passId, count, count.inFlight);
    if (count.unflushed === 0 && count.lastFlushAt !== undefined) return Promise.resolve();
    const flight: Flush = { sequence: ++count.sequence, uses: count.unflushed, sentAt: 0, retryAt: 0 };
    count.unflushed = 0;
    count.inFlight = flight;
    return this.send(passId, count, flight);
  }

  /** One attempt of a flush; its answer may come in a later invocation (a frozen container), or never. */
  private async send(passId: string, count: PassCount, flight: Flush): Promise<void> {
    const sentAt = this.clock();
    flight.sentAt = sentAt;
    flight.retryAt = sentAt + QUOTA_FLUSH_TIMEOUT_SECONDS * 1000;
    count.lastFlushAt = sentAt;
    try {
      const usage = await this.port.addPassUses(passId, this.container, flight.sequence, flight.uses, count.expiresAt);
      if (count.inFlight === flight) {
        count.inFlight = undefined;
        // A duplicate's count is not known: ours is in it, so add ours to the last known.
        if (usage === 'duplicate') count.known += flight.uses;
      }
      if (usage !== 'duplicate') {
        count.known = Math.max(count.known, usage.uses);
        count.containers = Math.max(count.containers, usage.containers);
      }
    } catch (error) {
      // Kept in flight: a use after the pause sends it again with the same sequence (applied at most once).
      if (count.inFlight === flight && flight.sentAt === sentAt) flight.retryAt = this.clock() + QUOTA_FLUSH_SECONDS * 1000;
      this.log({ event: 'x402.pass_quota_flush_error', passId, uses: flight.uses, error: String(error) });
    }
  }
}
