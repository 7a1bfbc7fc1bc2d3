import type { PhaseName } from './load-phases';

/** How much `npm run bench` sends in each section (about 5 minutes in all on a 2-core machine). */
export const SETTINGS = {
  connections: 10,
  /** Every load phase runs this many times per side, the sides interleaved in alternating order (bench/load-phases.ts). */
  repetitions: 5,
  /** The load phases run (`--phases=` picks some, e.g. the paid ones while tuning the paid path). */
  phases: ['free', 'challenge', 'badPayment', 'paid', 'paidSequential'] as readonly PhaseName[],
  /** Free and 402 phases: fixed durations. */
  phaseSeconds: 2,
  warmupSeconds: 1,
  /**
   * Bad-payment phase: a fixed count, so that the facilitator calls it caused are all counted;
   * enough that ours (~1000 req/s) runs for longer than a scheduler's hiccup.
   */
  badPaymentRequests: 400,
  /** Paid phases: fixed counts, each request with its own authorization. */
  paidRequests: 150,
  paidSequentialRequests: 60,
  paidWarmup: 20,
  payerWallets: 30,
  signatureRuns: 1000,
  coldStartRuns: 5,
  baseLike: { blockTimeMs: 2000, sequentialRequests: 8, loadedRequests: 40 },
  far: { roundTripsMs: [0, 80, 200], requests: 6, coldRequests: 2 },
  sizing: { memoryMb: [128, 256, 512, 1024, 1769], paidRequests: 15, refusedRequests: 15 },
};

export type BenchSettings = typeof SETTINGS;

/** The load phases `--phases` can pick. */
export const PHASES = SETTINGS.phases;

/** The sections `--only` can pick. */
export const SECTIONS = ['load', 'cold', 'baseLike', 'far', 'sizing'] as const;
export type SectionName = (typeof SECTIONS)[number];
