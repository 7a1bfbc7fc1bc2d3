import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { PaywallSynthInput, SynthesizedPaywall } from './paywall-synth';

/**
 * {@link synthesizePaywall} in a child process (Node with tsx), so the caller neither loads
 * aws-cdk-lib (seconds in a jest worker) nor waits on it: the local stack starts its services
 * meanwhile.
 */
export function synthesizePaywallApart(input: PaywallSynthInput): Promise<SynthesizedPaywall> {
  const child = fork(path.join(__dirname, 'paywall-synth.ts'), [], {
    // In the repository, so `--import tsx` resolves from its node_modules wherever the caller runs.
    cwd: path.join(__dirname, '..'),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (answer: { ok: true; result: SynthesizedPaywall } | { ok: false; error: string }) => {
      if (answer.ok) resolve(answer.result);
      else reject(new Error(`synthesizing the paywall for the local edge failed: ${answer.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the paywall synthesis process exited (${code}) without an answer`)));
    child.once('error', reject);
    child.send(input);
  });
}
