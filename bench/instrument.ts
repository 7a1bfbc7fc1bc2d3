/**
 * Timers around the edge handlers and their ports, to split a paid request's edge time into what
 * our code spends and what the facilitator and DynamoDB spend. Each CloudFront request id (the same
 * in its viewer-request and origin-response events) gets one record; AsyncLocalStorage attributes
 * every port call to the invocation that made it, so the split holds under concurrency.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { PaywallPorts } from '../lambda/core/paywall';
import type { ReceiptStorePort } from '../lambda/core/ports';
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';
import { epochMs } from '../local/delay-proxy';

export interface RequestTiming {
  /** Wall time inside the viewer-request and origin-response handlers. */
  handlerMs: number;
  /** Wall time inside facilitator calls (verify, settle). */
  facilitatorMs: number;
  /** Of which settle (on Base, the wait for the block). */
  settleMs: number;
  /** Wall time inside receipt-store calls (DynamoDB). */
  storeMs: number;
  /** Wall time inside chain RPC calls (the simulated transfer, eth_getCode). */
  chainMs: number;
  /**
   * Wall time during which at least one port call was in flight: verify and the reservation run
   * side by side, so the edge's own time is the handler time less this union, not less the sum.
   */
  waitingMs: number;
  /** Port calls in flight now, and since when one has been (for `waitingMs`). */
  inFlight: number;
  waitingSince: number;
  settled: boolean;
  /** First handler start and last handler end, epoch ms (local/delay-proxy.ts `epochMs`). */
  startedAt: number;
  endedAt: number;
}

export class EdgeTimer {
  private readonly als = new AsyncLocalStorage<RequestTiming>();
  private readonly records = new Map<string, RequestTiming>();
  /**
   * Off until the first {@link reset}: the free, 402 and refused-payment phases run before any paid
   * one and need no split, so their handlers run untimed (no record per request, no
   * AsyncLocalStorage context: its promise hooks would cost every promise in this process).
   */
  private recording = false;

  /** Forgets the records so far and records from now on. */
  reset(): void {
    this.records.clear();
    this.recording = true;
  }

  /** Completed paid requests (both handlers ran, a settled receipt's write was started). */
  paidRequests(): RequestTiming[] {
    return [...this.records.values()].filter((r) => r.settled);
  }

  /** Each completed paid request's span inside our handlers, epoch ms, in order. */
  paidWindows(): Array<readonly [number, number]> {
    return this.paidRequests()
      .map((r) => [r.startedAt, r.endedAt] as const)
      .sort((a, b) => a[0] - b[0]);
  }

  wrapPorts = (ports: PaywallPorts): PaywallPorts => {
    const time = <T>(field: 'facilitatorMs' | 'storeMs' | 'chainMs', call: () => Promise<T>, also?: 'settleMs'): Promise<T> => {
      const record = this.als.getStore();
      const started = performance.now();
      if (record && record.inFlight++ === 0) record.waitingSince = started;
      return call().finally(() => {
        if (!record) return;
        const ended = performance.now();
        record[field] += ended - started;
        if (also) record[also] += ended - started;
        if (--record.inFlight === 0) record.waitingMs += ended - record.waitingSince;
      });
    };
    const store = ports.receipts;
    const timed = <K extends keyof ReceiptStorePort>(name: K) =>
      ((...args: Parameters<ReceiptStorePort[K]>) => time('storeMs', () => (store[name] as (...a: typeof args) => Promise<unknown>)(...args))) as ReceiptStorePort[K];
    const receipts: ReceiptStorePort = {
      reserve: timed('reserve'),
      forget: timed('forget'),
      claimForSettlement: timed('claimForSettlement'),
      markSettled: (...args) => {
        // Paid once its settled receipt is written: with x402:settledReceipt=after-release the answer comes after the response.
        const record = this.als.getStore();
        if (record) record.settled = true;
        return time('storeMs', () => store.markSettled(...args));
      },
      markFailed: timed('markFailed'),
      release: timed('release'),
      claimRedelivery: timed('claimRedelivery'),
      returnRedelivery: timed('returnRedelivery'),
      handoffKey: timed('handoffKey'),
    };
    const chain = ports.chain;
    return {
      ...ports,
      facilitator: {
        ...ports.facilitator,
        verify: (...args) => time('facilitatorMs', () => ports.facilitator.verify(...args)),
        settle: (...args) => time('facilitatorMs', () => ports.facilitator.settle(...args), 'settleMs'),
      },
      receipts,
      ...(chain
        ? {
            chain: {
              hasCode: (...args) => time('chainMs', () => chain.hasCode(...args)),
              call: (...args) => time('chainMs', () => chain.call(...args)),
            },
          }
        : {}),
    };
  };

  wrapHandlers(handlers: EdgeHandlers): EdgeHandlers {
    const timed = <E extends { Records: Array<{ cf: { config: { requestId: string } } }> }, R>(handler: (event: E) => Promise<R>) => (event: E): Promise<R> => {
      if (!this.recording) return handler(event);
      const id = event.Records[0].cf.config.requestId;
      let record = this.records.get(id);
      const started = performance.now();
      if (!record) this.records.set(id, (record = { handlerMs: 0, facilitatorMs: 0, settleMs: 0, storeMs: 0, chainMs: 0, waitingMs: 0, inFlight: 0, waitingSince: 0, settled: false, startedAt: epochMs(), endedAt: 0 }));
      const rec = record;
      return this.als.run(rec, () => handler(event)).finally(() => {
        rec.handlerMs += performance.now() - started;
        rec.endedAt = epochMs();
      });
    };
    return { viewerRequest: timed(handlers.viewerRequest), originRequest: timed(handlers.originRequest), originResponse: timed(handlers.originResponse) };
  }
}
