/** lambda/core/handoff-seal.ts: a sealed payment opens only for its own payment id with the same key. */
import { randomBytes } from 'node:crypto';
import { HANDOFF_KEY_RETRY_MS, HandoffSeal } from '../../lambda/core/handoff-seal';

const PAYMENT = JSON.stringify({ x402Version: 2, payload: { signature: `0x${'11'.repeat(65)}` } });

function sealWith(key: Uint8Array | (() => Promise<Uint8Array>), now = () => 0) {
  const logs: Array<Record<string, unknown>> = [];
  const load = typeof key === 'function' ? key : async () => key;
  return { seal: new HandoffSeal(load, now, (line) => logs.push(line)), logs };
}

it('opens what it sealed, for the same payment id, and nothing else', async () => {
  const key = randomBytes(32);
  const { seal } = sealWith(key);
  expect(seal.seal('id-1', PAYMENT)).toBeUndefined();
  expect(await seal.ready(1000)).toBe(true);
  const sealed = seal.seal('id-1', PAYMENT)!;
  expect(sealed).not.toContain(PAYMENT.slice(0, 20));
  expect(Buffer.from(sealed, 'base64url').toString('utf8')).not.toContain('signature');

  const { seal: other } = sealWith(key);
  await other.ready(1000);
  expect(other.open('id-1', sealed)).toBe(PAYMENT);
  expect(other.open('id-2', sealed)).toBeUndefined();

  const flipped = Buffer.from(sealed, 'base64url');
  flipped[20] ^= 1;
  expect(other.open('id-1', flipped.toString('base64url'))).toBeUndefined();
  expect(other.open('id-1', 'AAAA')).toBeUndefined();
  expect(other.open('id-1', '')).toBeUndefined();
});

it('a seal with another key opens nothing; none at all before its key is read', async () => {
  const { seal } = sealWith(randomBytes(32));
  await seal.ready(1000);
  const sealed = seal.seal('id', PAYMENT)!;
  const { seal: stranger } = sealWith(randomBytes(32));
  expect(stranger.open('id', sealed)).toBeUndefined();
  await stranger.ready(1000);
  expect(stranger.open('id', sealed)).toBeUndefined();
});

it('a key that cannot be read: not ready, logged, retried only after the back-off', async () => {
  let now = 0;
  let reads = 0;
  const { seal, logs } = sealWith(async () => {
    reads++;
    throw new Error('DynamoDB unreachable');
  }, () => now);
  expect(await seal.ready(1000)).toBe(false);
  expect(logs).toEqual([expect.objectContaining({ event: 'x402.handoff_key_unavailable', error: 'Error: DynamoDB unreachable' })]);
  expect(await seal.ready(1000)).toBe(false);
  expect(reads).toBe(1);
  now = HANDOFF_KEY_RETRY_MS;
  expect(await seal.ready(1000)).toBe(false);
  expect(reads).toBe(2);
});

it('a key of the wrong length is refused', async () => {
  const { seal, logs } = sealWith(randomBytes(16));
  expect(await seal.ready(1000)).toBe(false);
  expect(logs[0].error).toMatch(/16 bytes, not 32/);
});

it('waits at most the given time for a slow key, which is then there for the next request', async () => {
  let deliver!: (key: Uint8Array) => void;
  const { seal } = sealWith(() => new Promise<Uint8Array>((resolve) => (deliver = resolve)));
  expect(await seal.ready(20)).toBe(false);
  deliver(randomBytes(32));
  await new Promise((resolve) => setImmediate(resolve));
  expect(await seal.ready(20)).toBe(true);
  expect(seal.seal('id', PAYMENT)).toEqual(expect.any(String));
});
