/**
 * Bounds on what a client can make the edge spend without paying: facilitator calls (every verify
 * is an RPC simulation) and DynamoDB writes. The state is in memory, per container (a warm
 * Lambda@Edge container serves one request after another), in fixed-size LRU maps: a flood is
 * bounded at every container, and memory stays bounded whatever keys a client invents. Pure: time
 * comes from the Clock port.
 *
 * Keys are the client (its IP; an IPv6 client by its /64, which one subscriber usually holds whole)
 * and the payer. A payer is held responsible for a failure only once its signature is proven
 * (recovered locally, or accepted by the facilitator): anyone can write another address in `from`.
 */
import type { AbuseLimits } from './config';
import type { Clock } from './ports';
import { reject, Reasons, type Rejection } from './rejection';

export const DEFAULT_ABUSE_LIMITS: AbuseLimits = {
  failuresBeforeBackoff: 5,
  failureWindowSeconds: 60,
  firstBackoffSeconds: 10,
  maxBackoffSeconds: 600,
  smartWalletChecksPerMinute: 10,
  trackedKeys: 10_000,
};

/** A map that forgets its least recently used entry beyond `capacity`. */
export class LruMap<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map iterates in insertion order: re-inserting makes this the most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** At most `limit` units per key per fixed window. */
export class WindowBudget {
  private readonly windows: LruMap<{ start: number; used: number }>;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    capacity: number,
  ) {
    this.windows = new LruMap(capacity);
  }

  /** Takes one unit from every key, or none: then the milliseconds until all of them have room. */
  take(keys: readonly string[], now: number): { readonly taken: true } | { readonly taken: false; readonly waitMs: number } {
    let waitMs = 0;
    for (const key of keys) {
      const window = this.windows.get(key);
      if (window && now - window.start < this.windowMs && window.used >= this.limit) waitMs = Math.max(waitMs, window.start + this.windowMs - now);
    }
    if (waitMs > 0) return { taken: false, waitMs };
    for (const key of keys) {
      const window = this.windows.get(key);
      if (!window || now - window.start >= this.windowMs) this.windows.set(key, { start: now, used: 1 });
      else window.used++;
    }
    return { taken: true };
  }

  /** Gives back a unit taken at `takenAt`, unless its window has ended since. */
  giveBack(keys: readonly string[], takenAt: number): void {
    for (const key of keys) {
      const window = this.windows.get(key);
      if (window && window.start <= takenAt && window.used > 0) window.used--;
    }
  }
}

/** Keys that keep failing wait, exponentially longer each time, up to a cap. */
export class FailureBackoff {
  private readonly records: LruMap<{ windowStart: number; failures: number; backoffs: number; until: number; lastFailure: number }>;

  constructor(
    private readonly limits: AbuseLimits,
    capacity: number,
  ) {
    this.records = new LruMap(capacity);
  }

  /** Milliseconds the longest-waiting of these keys must still wait, or 0. */
  waitMs(keys: readonly string[], now: number): number {
    return Math.max(0, ...keys.map((key) => (this.records.get(key)?.until ?? 0) - now));
  }

  recordFailure(keys: readonly string[], now: number): void {
    const windowMs = this.limits.failureWindowSeconds * 1000;
    const maxMs = this.limits.maxBackoffSeconds * 1000;
    for (const key of keys) {
      let record = this.records.get(key);
      if (!record || now - Math.max(record.until, record.lastFailure) >= maxMs) {
        record = { windowStart: now, failures: 0, backoffs: 0, until: 0, lastFailure: now };
      }
      if (now - record.windowStart >= windowMs) {
        record.windowStart = now;
        record.failures = 0;
      }
      record.failures++;
      record.lastFailure = now;
      if (record.failures >= this.limits.failuresBeforeBackoff) {
        record.until = now + Math.min(maxMs, this.limits.firstBackoffSeconds * 1000 * 2 ** record.backoffs);
        record.backoffs++;
        record.failures = 0;
        record.windowStart = now;
      }
      this.records.set(key, record);
    }
  }
}

/** An IPv6 client by its /64 (one subscriber's prefix), any other by its address. */
export function clientKey(ip: string): string {
  const address = ip.trim().toLowerCase();
  const mappedV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mappedV4 || !address.includes(':')) return `client:${mappedV4 ? mappedV4[1] : address}`;
  const [head, tail] = address.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `client:${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The parties of a payment: the client that sent it (from the transport) and the payer it names. */
export interface PaymentParties {
  readonly clientIp?: string;
  readonly payer: string;
}

/** A payment let through to the facilitator; the caller reports how it ended. */
export interface PaymentAdmission {
  /** The facilitator accepted it: the payer is proven, and a smart-wallet check is given back. */
  verified(): void;
  /** It failed (refused by the facilitator, replayed, retried too often): counts toward a backoff. */
  failed(): void;
}

export class AbuseGuard {
  private readonly backoff: FailureBackoff;
  private readonly smartWalletChecks: WindowBudget;

  constructor(
    limits: AbuseLimits,
    private readonly clock: Clock,
  ) {
    this.backoff = new FailureBackoff(limits, limits.trackedKeys);
    this.smartWalletChecks = new WindowBudget(limits.smartWalletChecksPerMinute, 60_000, limits.trackedKeys);
  }

  /**
   * Call before any facilitator or DynamoDB call. 429 while the client or the payer backs off, or
   * when a signature only the chain can check (`signatureRecovered` false) is over their budget.
   */
  admit(parties: PaymentParties, signatureRecovered: boolean): PaymentAdmission | Rejection {
    const now = this.clock();
    const { client, payer } = partyKeys(parties);
    const backingOff = this.backingOff(client, payer, now);
    if (backingOff) return backingOff;
    let payerProven = signatureRecovered;
    let checkTaken = false;
    if (!signatureRecovered) {
      const check = this.smartWalletChecks.take([...client, payer], now);
      if (!check.taken) {
        const seconds = Math.ceil(check.waitMs / 1000);
        return reject(
          429,
          Reasons.tooManySmartWalletChecks,
          `too many signatures that only the chain can check (smart wallets, or signatures that do not recover to "from") from this client or payer: retry in ${seconds} s`,
          seconds,
        );
      }
      checkTaken = true;
    }
    return {
      verified: () => {
        payerProven = true;
        if (checkTaken) this.smartWalletChecks.giveBack([...client, payer], now);
        checkTaken = false;
      },
      failed: () => this.backoff.recordFailure(payerProven ? [...client, payer] : client, this.clock()),
    };
  }

  /**
   * Call before a batch-settlement payment (a deposit or a voucher) is checked: 429 while the
   * client or the payer backs off. Its refusals (`failed`) count as failed payments do: against the
   * client, and against the payer only once its signature is proven.
   */
  admitChannelPayment(parties: PaymentParties): ChannelPaymentAdmission | Rejection {
    const { client, payer } = partyKeys(parties);
    const backingOff = this.backingOff(client, payer, this.clock());
    if (backingOff) return backingOff;
    return { failed: (payerProven) => this.backoff.recordFailure(payerProven ? [...client, payer] : client, this.clock()) };
  }

  private backingOff(client: readonly string[], payer: string, now: number): Rejection | undefined {
    const waitMs = this.backoff.waitMs([...client, payer], now);
    if (waitMs <= 0) return undefined;
    const seconds = Math.ceil(waitMs / 1000);
    return reject(429, Reasons.tooManyFailedPayments, `too many failed payments from this client or payer: retry in ${seconds} s`, seconds);
  }
}

/** A batch-settlement payment let through; the caller reports a refusal, and whether it proved the payer's signature. */
export interface ChannelPaymentAdmission {
  failed(payerProven: boolean): void;
}

function partyKeys(parties: PaymentParties): { readonly client: readonly string[]; readonly payer: string } {
  return { client: parties.clientIp ? [clientKey(parties.clientIp)] : [], payer: `payer:${parties.payer.toLowerCase()}` };
}
