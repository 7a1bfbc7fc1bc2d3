/**
 * CPU profiles of the load runs (`npm run bench -- --cpu-profile=DIR`): V8's sampling profiler
 * runs in the bench process (origin, local edge, our handlers, the peer), in the dynalite process and
 * in the chain + facilitator process, only while a load run (paid, refused, free or 402) is in flight,
 * and each run's profiles are written to DIR. `summary.md` there shows, per side and run kind, the
 * CPU per request by package and by function (self time). Proportions hold on a loaded machine; absolute milliseconds do not (a descheduled
 * process's samples are stretched), so compare sides of the same run.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';

interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const PROFILE_SAMPLING_MICROS = 100;

/** This process's profiler: `start()`, then `stop()` gives the profile since. */
export function processProfiler(): { start(): Promise<void>; stop(): Promise<CpuProfile> } {
  const session = new Session();
  session.connect();
  return {
    async start() {
      await session.post('Profiler.enable');
      // V8's default (1 ms) leaves a few hundred samples in a run of refused payments: too few to rank functions.
      await session.post('Profiler.setSamplingInterval', { interval: PROFILE_SAMPLING_MICROS });
      await session.post('Profiler.start');
    },
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      return profile;
    },
  };
}

/** Asks a child (bench/dynamo-process.ts, bench/services-process.ts) to start or stop its profiler (stop writes `file`). */
type ProfileMessage = { readonly profile: 'start' } | { readonly profile: 'stop'; readonly file: string } | { readonly profile: 'cpu' };
/** `cpuMicros`: the child's user + system CPU time so far, answering `{ profile: 'cpu' }`. */
type ProfileReply = { readonly profiled: true; readonly cpuMicros?: number };

function childProfileRequest(child: ChildProcess, message: ProfileMessage): Promise<ProfileReply> {
  return new Promise((resolve) => {
    // The child may answer other requests meanwhile: wait for the profiler's answer.
    const answered = (reply: Partial<ProfileReply>) => {
      if (reply?.profiled !== true) return;
      child.off('message', answered);
      resolve(reply as ProfileReply);
    };
    child.on('message', answered);
    child.send(message);
  });
}

/** A child's side: answers {@link ProfileMessage}s with `{ profiled: true }` (other messages are not its). */
export function answerProfileRequests(): void {
  const profiler = processProfiler();
  process.on('message', (message: ProfileMessage | object) => {
    if (!('profile' in message)) return;
    if (message.profile === 'cpu') return void process.send!({ profiled: true, cpuMicros: cpuMicros() } satisfies ProfileReply);
    const done = message.profile === 'start' ? profiler.start() : profiler.stop().then((p) => writeFileSync(message.file, JSON.stringify(p)));
    void done.then(() => process.send!({ profiled: true }));
  });
}

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** CPU time (user + system, µs) used so far by this process and by each child (which calls {@link answerProfileRequests}), by name. */
export async function cpuMicrosByProcess(children: Readonly<Record<string, ChildProcess>>): Promise<Record<string, number>> {
  const entries = await Promise.all(Object.entries(children).map(async ([name, child]) => [name, (await childProfileRequest(child, { profile: 'cpu' })).cpuMicros ?? 0] as const));
  return { bench: cpuMicros(), ...Object.fromEntries(entries) };
}

export class RunProfiles {
  private readonly main = processProfiler();
  private readonly groups = new Map<string, { requests: number; selfUs: Map<string, Map<string, number>>; functionUs: Map<string, Map<string, number>> }>();
  private runs = 0;

  /** `children`: the other processes to profile, by the name the summary gives them. */
  constructor(
    private readonly dir: string,
    private readonly children: Readonly<Record<string, ChildProcess>>,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Profiles both processes while `run` is in flight; `group` names the side and concurrency. */
  async around<T extends { readonly requests: number }>(group: string, run: () => Promise<T>): Promise<T> {
    const children = Object.entries(this.children);
    await Promise.all([this.main.start(), ...children.map(([, child]) => childProfileRequest(child, { profile: 'start' }))]);
    const result = await run();
    const name = `${String(++this.runs).padStart(2, '0')}-${group.replace(/\W+/g, '-')}`;
    const childFiles = children.map(([label, child]) => [label, child, path.join(this.dir, `${name}.${label.replace(/\W+/g, '-')}.cpuprofile`)] as const);
    const [mainProfile] = await Promise.all([this.main.stop(), ...childFiles.map(([, child, file]) => childProfileRequest(child, { profile: 'stop', file }))]);
    writeFileSync(path.join(this.dir, `${name}.bench.cpuprofile`), JSON.stringify(mainProfile));
    const entry = this.groups.get(group) ?? { requests: 0, selfUs: new Map(), functionUs: new Map() };
    entry.requests += result.requests;
    addSelfTime(entry, 'bench process', mainProfile);
    for (const [label, , file] of childFiles) addSelfTime(entry, `${label} process`, JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    this.groups.set(group, entry);
    return result;
  }

  /** Writes summary.md: per group, CPU per request by process, by package and by function, the heaviest first. */
  writeSummary(top = 25): string {
    const lines = ['# CPU per request by package and by function (self time, ms per request)', ''];
    const table = (heading: string, column: string, byName: Map<string, number>, requests: number) => {
      const total = [...byName.values()].reduce((a, b) => a + b, 0);
      lines.push(`${heading}, ${(total / 1000 / requests).toFixed(2)} ms per request (${requests} requests)`, '', `| ms/request | share | ${column} |`, '|---|---|---|');
      for (const [name, us] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        lines.push(`| ${(us / 1000 / requests).toFixed(3)} | ${((100 * us) / total).toFixed(1)}% | ${name} |`);
      }
      lines.push('');
    };
    for (const [group, { requests, selfUs, functionUs }] of this.groups) {
      for (const [proc, byPackage] of selfUs) table(`## ${group}: ${proc}`, 'package or file', byPackage, requests);
      const benchFunctions = functionUs.get('bench process');
      if (benchFunctions) table(`### ${group}: bench process by function`, 'function (file:line)', benchFunctions, requests);
    }
    const file = path.join(this.dir, 'summary.md');
    writeFileSync(file, lines.join('\n'));
    return file;
  }
}

/** Adds a profile's busy samples (idle excluded) to `selfUs[proc][package]` and `functionUs[proc][function]`, in µs. */
function addSelfTime(into: { selfUs: Map<string, Map<string, number>>; functionUs: Map<string, Map<string, number>> }, proc: string, profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const tally = (maps: Map<string, Map<string, number>>, name: string, us: number) => {
    const byName = maps.get(proc) ?? new Map<string, number>();
    maps.set(proc, byName);
    byName.set(name, (byName.get(name) ?? 0) + us);
  };
  // Each sample's time is the gap to the next one.
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    const frame = byId.get(profile.samples[i]!)!;
    if (frame.functionName === '(idle)') continue;
    const us = profile.timeDeltas[i + 1]!;
    tally(into.selfUs, packageOf(frame), us);
    tally(into.functionUs, `${frame.functionName || '(anonymous)'} (${packageOf(frame)}:${frame.lineNumber + 1})`, us);
  }
}

/** `node_modules/<package>`, a node: module, a file of this repository, or V8's own category. */
function packageOf(frame: { readonly functionName: string; readonly url: string }): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (dependency) return dependency[1]!;
  if (frame.url.startsWith('node:')) return frame.url;
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const own = /\/((?:lambda|local|bench)\/.*)$/.exec(frame.url);
  return own ? own[1]! : frame.url;
}
