/** `npm run demo`, the README's first quickstart command, as a user runs it. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

it('runs the local edge demo to the end: 402, paid 200, redelivered once without a charge, then refused; a pass bought, then reads with no transaction', async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (exitCode) => resolve({ code: exitCode, output }));
  });
  expect(output).not.toContain('✗');
  expect(code).toBe(0);
  for (const check of [
    'the agent approved Permit2 once, so it can also pay metered (upto) routes',
    'the edge asked for payment',
    'content released with a successful settlement',
    'delivered once more, without a second charge',
    'then refused',
    'the pass was paid with one on-chain transfer',
    '20 articles, 0 further on-chain transactions, 0 facilitator calls',
    'the pass purchase is a settled receipt (kind pass)',
  ]) {
    expect(output).toContain(`✓ ${check}`);
  }
}, 120_000);
