/**
 * The side-by-side load phases: free pass-through and 402 challenge (fixed durations), refused
 * payment and valid paid requests at c=10 and c=1 (fixed counts). Each phase warms every side
 * up, then runs `repetitions` times with the sides interleaved in alternating order (ours, peer +
 * origin, peer in process, then the reverse...), so that a machine whose speed drifts affects every
 * side alike. Every run's raw
 * figures are kept.
 */
import { AGENT_HEADERS, FREE_PATH, measuringCpu, PRICED_PATH, refusedPayment, type Bench, type CpuMeasured, type Side, type SideName } from './harness';
import type { RequestTiming } from './instrument';
import type { LoadJob, LoadResult } from './load-worker';
import type { BenchSettings } from './settings';

export type PhaseName = 'free' | 'challenge' | 'badPayment' | 'paid' | 'paidSequential';
/** One run, the calls the (shared) facilitator received during it, and the CPU time of each serving process. */
export type PhaseRun = CpuMeasured<LoadResult> & { readonly facilitatorCalls: { readonly verify: number; readonly settle: number } };
/** Every run of every phase, per side, in the order run. */
export type PhaseRuns = Record<PhaseName, Partial<Record<SideName, PhaseRun[]>>>;

export interface LoadPhases {
  readonly phases: PhaseRuns;
  /** Our handlers' timings for every measured paid request, by phase. */
  readonly edge: { readonly loaded: RequestTiming[]; readonly sequential: RequestTiming[] };
}

export async function runLoadPhases(bench: Bench, sides: readonly Side[], settings: BenchSettings): Promise<LoadPhases> {
  const phases: PhaseRuns = { free: {}, challenge: {}, badPayment: {}, paid: {}, paidSequential: {} };
  const record = async (phase: PhaseName, side: Side, run: () => Promise<CpuMeasured<LoadResult>>) => {
    const before = await bench.services.facilitatorCalls();
    const result = await run();
    const after = await bench.services.facilitatorCalls();
    (phases[phase][side.name] ??= []).push({ ...result, facilitatorCalls: { verify: after.verify - before.verify, settle: after.settle - before.settle } });
    bench.say(`${phase.padEnd(14)} ${side.name.padEnd(10)} ${line(result)}`);
  };
  const base = { connections: settings.connections, headers: AGENT_HEADERS };
  const unpaidSides = sides.filter((side) => !side.paidOnly);
  // The local edge routes to a side's own handlers while it runs, then back to the in-process ones.
  const paid = async (side: Side, amount: number, connections: number) => {
    bench.router.use(side.handlers);
    try {
      return await bench.paid(side, amount, connections);
    } finally {
      bench.router.use();
    }
  };

  const fixedJobs: Record<'free' | 'challenge' | 'badPayment', (side: Side) => Promise<Omit<LoadJob, 'id'>>> = {
    free: async (side) => ({ ...base, url: side.url, path: FREE_PATH, expectStatus: 200 }),
    challenge: async (side) => ({ ...base, url: side.url, path: PRICED_PATH, expectStatus: 402 }),
    badPayment: async (side) => {
      const bad = await refusedPayment(bench.payers, await bench.terms(side));
      return { ...base, url: side.url, path: PRICED_PATH, headers: { ...AGENT_HEADERS, 'payment-signature': bad }, expectStatus: 402, amount: settings.badPaymentRequests };
    },
  };
  for (const phase of (['free', 'challenge', 'badPayment'] as const).filter((p) => settings.phases.includes(p))) {
    const jobs = new Map<SideName, Omit<LoadJob, 'id'>>();
    for (const side of unpaidSides) {
      const job = await fixedJobs[phase](side);
      jobs.set(side.name, job);
      await bench.loader.run({ ...job, amount: undefined, durationSeconds: settings.warmupSeconds });
    }
    for (let rep = 0; rep < settings.repetitions; rep++) {
      for (const side of inTurn(unpaidSides, rep)) {
        const job = jobs.get(side.name)!;
        const run = () => measuringCpu(bench.processes, () => bench.loader.run(job.amount === undefined ? { ...job, durationSeconds: settings.phaseSeconds } : job));
        await record(phase, side, () => (bench.profiles ? bench.profiles.around(`${side.name} ${phase}`, run) : run()));
      }
    }
  }

  const edge = { loaded: [] as RequestTiming[], sequential: [] as RequestTiming[] };
  const paidPhases = ([
    ['paid', settings.paidRequests, settings.connections, edge.loaded],
    ['paidSequential', settings.paidSequentialRequests, 1, edge.sequential],
  ] as const).filter(([phase]) => settings.phases.includes(phase));
  if (paidPhases.length > 0) for (const side of sides) await paid(side, settings.paidWarmup, 5);
  for (const [phase, amount, connections, timings] of paidPhases) {
    for (let rep = 0; rep < settings.repetitions; rep++) {
      for (const side of inTurn(sides, rep)) {
        bench.timer.reset();
        await record(phase, side, () => paid(side, amount, connections));
        if (side.name === 'ours') timings.push(...bench.timer.paidRequests());
      }
    }
  }
  return { phases, edge };
}

/**
 * The sides of repetition `rep`: in order, then reversed, and so on (A B C, C B A, …). This machine's
 * speed drifts by tens of percent within a minute (a run's p50 moved 14 → 20 ms over five repetitions);
 * the same order every time would hand the faster moments to whichever side goes first.
 */
function inTurn<T>(sides: readonly T[], rep: number): readonly T[] {
  return rep % 2 === 0 ? sides : [...sides].reverse();
}

function line(r: LoadResult): string {
  return `${r.rps.toFixed(0).padStart(5)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.requests} in ${r.seconds.toFixed(3)} s; autocannon ${r.wallSeconds.toFixed(3)} s; ${r.unexpected} unexpected)`;
}
