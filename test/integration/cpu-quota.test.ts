/** The edge sizing bench's CPU quota: Lambda's share per memory size, enforced by a cgroup where the machine allows. */
import { spawn } from 'node:child_process';
import { cgroupCpu, cpuShareFor, createCpuQuota } from '../../bench/cpu-quota';

describe('CPU quota', () => {
  it("gives Lambda's share: one CPU at 1,769 MB", () => {
    expect(cpuShareFor(1769)).toBe(1);
    expect(cpuShareFor(128)).toBeCloseTo(0.0724, 4);
  });

  it('says why it cannot create a quota where no cgroup CPU interface exists', () => {
    const none = cgroupCpu('/nonexistent-cgroup-root');
    expect(none.kind).toBe('none');
    expect(() => createCpuQuota('x', 0.5, none)).toThrow(/no CPU quota on this machine: neither .*cgroup v2.* nor .*cpu.cfs_quota_us/);
  });
});

// Where this machine lets us (root, a cgroup CPU controller), the quota really holds a process to its share.
const cgroup = cgroupCpu();
const canQuota = cgroup.kind !== 'none' && process.getuid?.() === 0;
(canQuota ? it : it.skip)('holds a busy process to its share of one CPU', async () => {
  const quota = createCpuQuota(`cdk-x402-test-${process.pid}`, 0.25, cgroup);
  try {
    // Waits for stdin so it is under the quota before it starts spinning.
    const script = "process.stdin.once('data', () => { const c0 = process.cpuUsage(), t0 = Date.now(); while (Date.now() - t0 < 1000); const c = process.cpuUsage(c0); console.log((c.user + c.system) / 1000); process.exit(0); });";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    quota.add(child.pid!);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.write('go\n');
    await exited;
    const cpuMs = Number(out);
    // A quarter of a CPU for 1 s of wall time: at most ~250 ms (other load can only lower it).
    expect(cpuMs).toBeLessThan(330);
    expect(cpuMs).toBeGreaterThan(30);
  } finally {
    quota.remove();
  }
});
