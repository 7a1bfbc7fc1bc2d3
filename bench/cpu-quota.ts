/**
 * A CPU quota that gives a process Lambda's share of a CPU for a memory size: Lambda allocates CPU
 * in proportion to memory, 1,769 MB = one vCPU (AWS Lambda developer guide, "Configuring function
 * memory"). Enforced with a cgroup: v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, or v2 `cpu.max`,
 * whichever this machine mounts (creating one needs root).
 *
 * The period is 20 ms: CPU-bound code on Lambda pauses in multiples of 20 ms when throttled
 * (measured on Lambda by pwrdrvr/lambda-throttling, published results of 2025-03), i.e. a
 * Completely Fair Scheduler quota refilled every 20 ms. The period matters for short handlers: a
 * handler that needs less than one period's quota runs at full speed, so a longer period would
 * flatter them.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const MB_PER_VCPU = 1769;
export const LAMBDA_CPU_PERIOD_US = 20_000;

/** Lambda's share of one CPU at this memory size (1 at 1,769 MB). */
export const cpuShareFor = (memoryMb: number): number => memoryMb / MB_PER_VCPU;

export type CgroupCpu = { readonly kind: 'v1'; readonly root: string } | { readonly kind: 'v2'; readonly root: string } | { readonly kind: 'none'; readonly reason: string };

/** Which cgroup CPU interface this machine offers (v2 only when the cpu controller can be delegated from its root). */
export function cgroupCpu(fsRoot = '/sys/fs/cgroup'): CgroupCpu {
  const v2 = path.join(fsRoot, 'cgroup.controllers');
  if (existsSync(v2)) {
    const controllers = readFileSync(v2, 'utf8').split(/\s+/);
    if (controllers.includes('cpu')) return { kind: 'v2', root: fsRoot };
    return { kind: 'none', reason: `cgroup v2 at ${fsRoot} without the cpu controller (${controllers.join(' ') || 'none'})` };
  }
  const v1 = path.join(fsRoot, 'cpu');
  if (existsSync(path.join(v1, 'cpu.cfs_quota_us'))) return { kind: 'v1', root: v1 };
  return { kind: 'none', reason: `neither ${v2} (cgroup v2) nor ${path.join(v1, 'cpu.cfs_quota_us')} (cgroup v1 cpu controller) exists` };
}

export interface CpuQuota {
  /** e.g. `cgroup v1 cpu.cfs_quota_us=1447 cpu.cfs_period_us=20000`. */
  readonly description: string;
  /** Puts a process (all its threads) under the quota. */
  add(pid: number): void;
  /** Moves any process left back to the parent group and removes the group. */
  remove(): void;
}

/** A new cgroup `name` limited to `share` of one CPU per {@link LAMBDA_CPU_PERIOD_US}. Throws, saying why, when it cannot. */
export function createCpuQuota(name: string, share: number, cgroup: CgroupCpu = cgroupCpu()): CpuQuota {
  if (cgroup.kind === 'none') throw new Error(`no CPU quota on this machine: ${cgroup.reason}`);
  if (!(share > 0 && share <= 64)) throw new Error(`CPU share must be in (0, 64] CPUs; got ${share}`);
  const periodUs = LAMBDA_CPU_PERIOD_US;
  // The kernel's minimum quota is 1 ms.
  const quotaUs = Math.max(1000, Math.round(share * periodUs));
  const dir = path.join(cgroup.root, name);
  mkdirSync(dir);
  const write = (file: string, value: string) => writeFileSync(path.join(dir, file), value);
  try {
    if (cgroup.kind === 'v1') {
      write('cpu.cfs_period_us', String(periodUs));
      write('cpu.cfs_quota_us', String(quotaUs));
    } else {
      const subtree = path.join(cgroup.root, 'cgroup.subtree_control');
      if (!readFileSync(subtree, 'utf8').split(/\s+/).includes('cpu')) writeFileSync(subtree, '+cpu');
      write('cpu.max', `${quotaUs} ${periodUs}`);
    }
  } catch (error) {
    rmdirSync(dir);
    throw error;
  }
  const description = cgroup.kind === 'v1' ? `cgroup v1 cpu.cfs_quota_us=${quotaUs} cpu.cfs_period_us=${periodUs}` : `cgroup v2 cpu.max="${quotaUs} ${periodUs}"`;
  return {
    description,
    add(pid) {
      write('cgroup.procs', String(pid));
    },
    remove() {
      const left = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      for (const pid of left) {
        try {
          writeFileSync(path.join(cgroup.root, 'cgroup.procs'), pid);
        } catch {
          // it exited meanwhile
        }
      }
      rmdirSync(dir);
    },
  };
}
