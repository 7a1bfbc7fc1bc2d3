/**
 * What a Lambda@Edge invocation costs, and the memory size the sizing bench recommends.
 *
 * Lambda@Edge list price (AWS Lambda pricing page, "Lambda@Edge" section, as of writing,
 * 2026-12): $0.60 per million requests and $0.00005001 per GB-second
 * of duration, metered in 1 ms increments since 2021-04 (AWS "What's new", 2021-03-31). Duration
 * is wall time from the handler's start to its return, waits on the network included; GB =
 * memory MB / 1,024 as in AWS's pricing examples.
 */
import { percentile } from './load-worker';
import type { Timed } from './quota-host';

export const LAMBDA_EDGE_PRICING = {
  usdPerMillionRequests: 0.6,
  usdPerGbSecond: 0.00005001,
  billedIncrementMs: 1,
  source: 'AWS Lambda pricing page, Lambda@Edge section (list price as of 2026-12)',
} as const;

/** CloudFront runs viewer-request and viewer-response functions with at most 128 MB (CloudFront quotas, Lambda@Edge). */
export const VIEWER_TRIGGER_MAX_MB = 128;

/** USD per million invocations lasting `durationsMs` each (the mean of their billed durations), plus `extraMs` each. */
export function costPerMillion(durationsMs: readonly number[], memoryMb: number, extraMs = 0, pricing = LAMBDA_EDGE_PRICING): number {
  const step = pricing.billedIncrementMs;
  const billed = durationsMs.map((ms) => Math.ceil((ms + extraMs) / step) * step);
  const meanSeconds = billed.reduce((sum, ms) => sum + ms, 0) / billed.length / 1000;
  return pricing.usdPerMillionRequests + 1e6 * meanSeconds * (memoryMb / 1024) * pricing.usdPerGbSecond;
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
export const medianOf = (values: readonly number[]): number => percentile(sorted(values), 50);
export const p99Of = (values: readonly number[]): number => percentile(sorted(values), 99);

/**
 * A handler's median at `memoryMb` predicted from a run at one full CPU: its waits stay, its CPU
 * time stretches by 1,769 / memoryMb (what the quota should do, to check it against).
 */
export function scaledMedianMs(atOneCpu: readonly Timed[], memoryMb: number, mbPerVcpu: number): number {
  const wall = medianOf(atOneCpu.map((t) => t.wallMs));
  const cpu = medianOf(atOneCpu.map((t) => t.cpuMs));
  return wall + cpu * (mbPerVcpu / memoryMb - 1);
}

/**
 * The smallest memory size whose median adds at most `budgetMs` to the fastest size's median:
 * beyond it, more memory buys less than the budget and costs more (duration is billed per GB).
 */
export function recommendMemory(medians: ReadonlyArray<{ readonly memoryMb: number; readonly medianMs: number }>, budgetMs: number): number {
  const fastest = Math.min(...medians.map((m) => m.medianMs));
  const fits = medians.filter((m) => m.medianMs - fastest <= budgetMs).map((m) => m.memoryMb);
  return Math.min(...fits);
}
