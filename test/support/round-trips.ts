import { AsyncLocalStorage } from 'node:async_hooks';
import type { PaywallPorts } from '../../lambda/core/paywall';

/**
 * The serial round trips of one handler invocation through the paywall's ports, as levels: a call
 * is one level deeper than the deepest call that had finished when it started, so calls that
 * overlap (verify while the reservation is written) share a level. `levels[i]` lists the calls of
 * level i + 1 (`facilitator.verify`, `receipts.reserve`, `chain.hasCode`, ...), sorted. A call still
 * unanswered when the invocation returned is none of its round trips (it did not wait for it).
 */
export type RoundTripLevels = string[][];

interface Invocation {
  deepestFinished: number;
  readonly calls: Array<{ readonly name: string; readonly level: number; answered: boolean }>;
}

export class RoundTrips {
  private readonly current = new AsyncLocalStorage<Invocation>();

  /** The ports, each call attributed to the invocation (see {@link during}) that made it. */
  wrap(ports: PaywallPorts): PaywallPorts {
    return {
      ...ports,
      facilitator: this.counted('facilitator', ports.facilitator),
      receipts: this.counted('receipts', ports.receipts),
      ...(ports.chain ? { chain: this.counted('chain', ports.chain) } : {}),
    };
  }

  /** Runs one handler invocation; its result, the round trips it made and (only when there are any) the calls it returned without waiting for. */
  async during<T>(invocation: () => Promise<T>): Promise<{ readonly result: T; readonly levels: RoundTripLevels; readonly unanswered?: string[] }> {
    const record: Invocation = { deepestFinished: 0, calls: [] };
    const result = await this.current.run(record, invocation);
    const levels: RoundTripLevels = [];
    const unanswered = record.calls.filter((call) => !call.answered).map((call) => call.name);
    for (const call of record.calls) if (call.answered) (levels[call.level - 1] ??= []).push(call.name);
    return { result, levels: levels.map((names) => names.sort()), ...(unanswered.length > 0 ? { unanswered: unanswered.sort() } : {}) };
  }

  private counted<P extends object>(label: string, port: P): P {
    return new Proxy(port, {
      get: (target, key) => {
        const member: unknown = Reflect.get(target, key);
        if (typeof member !== 'function') return member;
        return (...args: unknown[]) => {
          const record = this.current.getStore();
          if (!record) throw new Error(`${label}.${String(key)} called outside RoundTrips.during`);
          const level = record.deepestFinished + 1;
          const call = { name: `${label}.${String(key)}`, level, answered: false };
          record.calls.push(call);
          return (member.apply(target, args) as Promise<unknown>).finally(() => {
            call.answered = true;
            record.deepestFinished = Math.max(record.deepestFinished, level);
          });
        };
      },
    });
  }
}
