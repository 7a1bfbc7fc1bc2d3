/** The viewer-request's copy of the revocation list: loaded in the background, never awaited by a request. */
import { PassRevocations, REVOCATION_REFRESH_SECONDS } from '../../../lambda/core/passes/revocations';

function setup(lists: Array<Record<string, number> | Error>) {
  let now = 1_000_000;
  let loads = 0;
  const log: Array<Record<string, unknown>> = [];
  let release: () => void = () => undefined;
  const revocations = new PassRevocations(
    {
      revokedPasses: () => {
        loads++;
        const next = lists.shift() ?? {};
        return new Promise((resolve, reject) => {
          release = () => (next instanceof Error ? reject(next) : resolve(next));
        });
      },
    },
    () => now,
    (line) => log.push(line),
  );
  return { revocations, loads: () => loads, release: () => release(), advance: (ms: number) => (now += ms), log };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

it('answers at once from the copy it has, and loads the list beside the request', async () => {
  const { revocations, loads, release } = setup([{ revoked: 2_000_000_000 }]);
  expect(revocations.isRevoked('revoked')).toBe(false);
  expect(loads()).toBe(1);
  release();
  await flush();
  expect(revocations.isRevoked('revoked')).toBe(true);
  expect(revocations.isRevoked('other')).toBe(false);
  expect(loads()).toBe(1);
});

it(`reloads a copy older than ${REVOCATION_REFRESH_SECONDS} s, once however many requests ask meanwhile`, async () => {
  const { revocations, loads, release, advance } = setup([{}, { late: 2_000_000_000 }]);
  revocations.isRevoked('late');
  release();
  await flush();
  advance(REVOCATION_REFRESH_SECONDS * 1000 - 1);
  expect(revocations.isRevoked('late')).toBe(false);
  expect(loads()).toBe(1);
  advance(1);
  for (let i = 0; i < 5; i++) expect(revocations.isRevoked('late')).toBe(false);
  expect(loads()).toBe(2);
  release();
  await flush();
  expect(revocations.isRevoked('late')).toBe(true);
});

it('keeps the last list when a load fails, logs it, and tries again a refresh later', async () => {
  const { revocations, loads, release, advance, log } = setup([{ gone: 2_000_000_000 }, new Error('DynamoDB unreachable'), {}]);
  revocations.isRevoked('gone');
  release();
  await flush();
  advance(REVOCATION_REFRESH_SECONDS * 1000);
  revocations.isRevoked('gone');
  release();
  await flush();
  expect(log).toContainEqual(expect.objectContaining({ event: 'x402.pass_revocations_error' }));
  expect(revocations.isRevoked('gone')).toBe(true);
  expect(loads()).toBe(2);
  advance(REVOCATION_REFRESH_SECONDS * 1000);
  revocations.isRevoked('gone');
  expect(loads()).toBe(3);
});
