import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { lambdaFunction, removeLambdaCode } from '../../local/lambda-container';
import { fixtureCode } from '../support/lambda-fixtures';

/** A loopback server that records what the probe function posts. */
let marks: string[];
let probeServer: http.Server;
let probeUrl: string;
let codePath: string;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  marks = [];
  probeServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      marks.push(Buffer.concat(chunks).toString());
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => probeServer.listen(0, '127.0.0.1', resolve));
  probeUrl = `http://127.0.0.1:${(probeServer.address() as AddressInfo).port}/`;
  codePath = fixtureCode('probe');
});
afterAll(async () => {
  removeLambdaCode(codePath);
  await new Promise((resolve) => probeServer.close(resolve));
});

it('ends the invocation at the timeout: a write the handler scheduled after its deadline never happens', async () => {
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 10_000 });
  try {
    // Control: with time to spare the same write lands.
    await expect(fn.invoke({ writeAfterMs: 300, url: probeUrl, mark: 'in time' }, 'r1')).resolves.toMatchObject({ ok: true });
    expect(marks).toEqual(['in time']);
  } finally {
    await fn.close();
  }
  const short = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 100 });
  try {
    const outcome = await short.invoke({ writeAfterMs: 300, url: probeUrl, mark: 'after the deadline' }, 'r2');
    expect(outcome).toEqual({ ok: false, timedOut: true, error: 'Task timed out after 0.10 seconds' });
    await sleep(900); // three times the delay: the write would have landed by now
    expect(marks).toEqual(['in time']);
  } finally {
    await short.close();
  }
});

it('starts a fresh container (a cold start) after a timeout, and reuses a warm one otherwise', async () => {
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 1000, maxContainers: 1 });
  try {
    expect(await fn.invoke({}, 'a')).toMatchObject({ ok: true, value: { invocations: 1 } });
    expect(await fn.invoke({}, 'b')).toMatchObject({ ok: true, value: { invocations: 2 } });
    expect(fn.coldStarts).toBe(1);
    expect(await fn.invoke({ writeAfterMs: 5000, url: probeUrl }, 'c')).toMatchObject({ ok: false, timedOut: true });
    expect(await fn.invoke({}, 'd')).toMatchObject({ ok: true, value: { invocations: 1 } });
    expect(fn.coldStarts).toBe(2);
  } finally {
    await fn.close();
  }
});

it('runs one invocation per container at a time: concurrent invocations get their own containers, up to the limit', async () => {
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 5000, maxContainers: 2 });
  try {
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => fn.invoke({ writeAfterMs: 100, url: probeUrl, mark: `c${i}` }, `r${i}`)));
    const values = outcomes.map((o) => (o.ok ? (o.value as { invocations: number; mostAtOnce: number }) : undefined));
    expect(fn.coldStarts).toBe(2);
    expect(values.filter((v) => v?.invocations === 1)).toHaveLength(2); // two containers, each counting its own
    expect(values.map((v) => v?.mostAtOnce)).toEqual([1, 1, 1, 1]); // never two invocations in one container
  } finally {
    await fn.close();
  }
});

it('warms up to the limit: concurrent invocations then meet warm containers, and no cold start', async () => {
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 5000, maxContainers: 3 });
  try {
    await fn.warm();
    expect(fn.coldStarts).toBe(3);
    const outcomes = await Promise.all([0, 1, 2].map((i) => fn.invoke({}, `w${i}`)));
    expect(outcomes).toEqual([0, 1, 2].map(() => expect.objectContaining({ ok: true, value: expect.objectContaining({ invocations: 1 }) })));
    expect(fn.coldStarts).toBe(3);
  } finally {
    await fn.close();
  }
});

it('gives the handler a Lambda context whose remaining time counts down from the timeout', async () => {
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 3000 });
  try {
    const outcome = await fn.invoke({ writeAfterMs: 200, url: probeUrl }, 'r');
    const remaining = outcome.ok ? (outcome.value as { remainingMs: number }).remainingMs : -1;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(3000 - 200);
  } finally {
    await fn.close();
  }
});

it('relays console lines in the order written, before the invocation returns', async () => {
  const lines: string[] = [];
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 3000, onLog: (line) => lines.push(line) });
  try {
    await fn.invoke({ log: ['{"event":"first"}', 'second'] }, 'r');
    expect(lines).toEqual(['{"event":"first"}', 'second']);
  } finally {
    await fn.close();
  }
});

it('reports handler errors, runtime crashes and init errors as invocation errors', async () => {
  const fn = lambdaFunction({ functionName: 'probe', codePath, timeoutMs: 3000, maxContainers: 1 });
  try {
    expect(await fn.invoke({ fail: 'boom' }, 'a')).toEqual({ ok: false, timedOut: false, error: 'Error: boom' });
    expect(await fn.invoke({ crash: true }, 'b')).toMatchObject({ ok: false, timedOut: false, error: expect.stringMatching(/^Runtime\.ExitError: .*crashed outside the handler/) });
    expect(await fn.invoke({}, 'c')).toMatchObject({ ok: true, value: { invocations: 1 } }); // a new container
  } finally {
    await fn.close();
  }
  const broken = lambdaFunction({ functionName: 'probe', codePath, handler: 'index.missing', timeoutMs: 3000 });
  try {
    expect(await broken.invoke({}, 'a')).toMatchObject({ ok: false, error: expect.stringMatching(/^Runtime\.HandlerNotFound: index\.missing is undefined or not exported/) });
  } finally {
    await broken.close();
  }
});
