/** lambda/edge/dynamo-receipt-store.ts against dynalite: every transition happens at most once. */
import { DynamoReceiptStore } from '../../lambda/edge/dynamo-receipt-store';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { reservedRow } from '../support/memory-receipts';

let ddb: LocalDynamo;
let store: DynamoReceiptStore;
beforeAll(async () => {
  ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, 'receipts');
  store = new DynamoReceiptStore(ddb.client, 'receipts');
});
afterAll(() => ddb?.close());

const at = () => new Date().toISOString();

it('hands the stored payment to exactly one of several concurrent settlement claims, and drops it once settled', async () => {
  const row = reservedRow('claim-once');
  expect(await store.reserve(row)).toBe('reserved');
  const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimForSettlement('claim-once', at())));
  expect(claims.filter((c) => c === row.payment)).toHaveLength(1);
  expect(claims.filter((c) => c === undefined)).toHaveLength(7);

  await store.markSettled('claim-once', '0x' + 'ab'.repeat(32), at());
  const settled = await store.find('claim-once');
  expect(settled).toMatchObject({ status: 'settled', txHash: '0x' + 'ab'.repeat(32), expiresAt: row.expiresAt });
  expect(settled?.payment).toBeUndefined();
  expect(await store.claimForSettlement('claim-once', at())).toBeUndefined();
});

it('counts redeliveries of a settled payment up to the allowance, and gives one back', async () => {
  await store.reserve(reservedRow('redeliver'));
  await store.markSettled('redeliver', '0x01', at());
  expect(await Promise.all([store.claimRedelivery('redeliver', 1, at()), store.claimRedelivery('redeliver', 1, at())])).toEqual(
    expect.arrayContaining([true, false]),
  );
  expect(await store.claimRedelivery('redeliver', 1, at())).toBe(false);
  await store.returnRedelivery('redeliver', at());
  expect(await store.claimRedelivery('redeliver', 1, at())).toBe(true);
  expect((await store.find('redeliver'))?.redeliveries).toBe(1);
});

it('never redelivers a payment that was not settled', async () => {
  await store.reserve(reservedRow('reserved-only'));
  expect(await store.claimRedelivery('reserved-only', 5, at())).toBe(false);
});

it('forgets an untouched reservation, but never one being settled', async () => {
  await store.reserve(reservedRow('refused'));
  await store.forget('refused');
  expect(await store.find('refused')).toBeUndefined();

  await store.reserve(reservedRow('settling'));
  await store.claimForSettlement('settling', at());
  await store.forget('settling');
  expect(await store.find('settling')).toMatchObject({ status: 'reserved', settleStartedAt: expect.any(String) });
});

it('makes each transition of the paid path one DynamoDB request (reserve, claim, record), a presented-again payment two', async () => {
  let requests = 0;
  const counted = new DynamoReceiptStore({ send: ((command: never) => (requests++, ddb.client.send(command))) as typeof ddb.client.send }, 'receipts');
  const row = reservedRow('one-request-each');
  const each: number[] = [];
  const count = async (transition: () => Promise<unknown>) => {
    const before = requests;
    await transition();
    each.push(requests - before);
  };
  await count(() => counted.reserve(row));
  await count(() => counted.claimForSettlement(row.paymentId, at()));
  await count(() => counted.markSettled(row.paymentId, '0x' + 'cd'.repeat(32), at()));
  // The conditional put fails, then the row is read. DynamoDB's ReturnValuesOnConditionCheckFailure
  // could return it with the failure, but dynalite, which every test runs on, lacks it.
  await count(() => counted.reserve(row));
  expect(each).toEqual([1, 1, 1, 2]);
});

it('creates the hand-off sealing key once: concurrent creators and later readers all get the same 32 bytes', async () => {
  const separate = new DynamoReceiptStore(ddb.client, 'handoff-keys');
  await createReceiptTable(ddb.client, 'handoff-keys');
  await expect(separate.handoffKey({ create: false })).rejects.toThrow(/no #handoff-key row yet/);
  const keys = await Promise.all(Array.from({ length: 6 }, () => separate.handoffKey({ create: true })));
  expect(keys[0]).toHaveLength(32);
  for (const key of keys) expect(Buffer.from(key).equals(Buffer.from(keys[0]))).toBe(true);
  expect(Buffer.from(await separate.handoffKey({ create: false })).equals(Buffer.from(keys[0]))).toBe(true);
});

it('records a sold pass once on its settled row (kind pass, its terms) and reads it back', async () => {
  const record = { passName: 'day', passScope: ['/articles/*'], passSeconds: 86_400, passNotBefore: 1_800_000_000, passExpiresAt: 1_800_086_400, passId: 'jti-1' };
  await store.reserve(reservedRow('pass-sale'));
  await expect(store.recordPass('pass-sale', record, at())).rejects.toThrow(/conditional/i);
  await store.markSettled('pass-sale', '0x02', at());
  expect(await store.findPass('pass-sale')).toBeUndefined();
  await store.recordPass('pass-sale', record, at());
  expect(await store.findPass('pass-sale')).toEqual(record);
  expect(await store.find('pass-sale')).toMatchObject({ status: 'settled', kind: 'pass', passScope: '["/articles/*"]', passExpiresAt: 1_800_086_400 });
  await expect(store.recordPass('pass-sale', { ...record, passId: 'jti-2' }, at())).rejects.toThrow(/conditional/i);
});

it("finds a payer's unexpired passes on the byPayer index: not other payers', not plain payments, not expired or older receipts", async () => {
  const holder = '0x1111111111111111111111111111111111111111';
  const now = 1_800_000_000;
  const sold = async (paymentId: string, payer: string, createdAt: string, passExpiresAt: number) => {
    await store.reserve(reservedRow(paymentId, { payer, createdAt }));
    await store.markSettled(paymentId, '0x03', at());
    const record = { passName: 'day', passScope: ['/articles/*'], passSeconds: 86_400, passNotBefore: passExpiresAt - 86_400, passExpiresAt, passId: `jti-${paymentId}` };
    await store.recordPass(paymentId, record, at());
    return record;
  };
  const recent = new Date((now - 3600) * 1000).toISOString();
  const valid = await sold('held-valid', holder, recent, now + 3600);
  await sold('held-expired', holder, recent, now - 1);
  await sold('held-old', holder, new Date((now - 40 * 86_400) * 1000).toISOString(), now + 3600);
  await sold('held-other-payer', '0x2222222222222222222222222222222222222222', recent, now + 3600);
  await store.reserve(reservedRow('held-plain', { payer: holder, createdAt: recent }));
  await store.markSettled('held-plain', '0x04', at());
  const since = new Date((now - 31 * 86_400) * 1000).toISOString();
  expect(await store.heldPasses(holder, since, now)).toEqual([valid]);
  expect(await store.heldPasses('0x3333333333333333333333333333333333333333', since, now)).toEqual([]);
});

it('keeps a revocation list that concurrent revocations all land on, dropping the entries of expired passes', async () => {
  const now = 1_800_000_000;
  await store.revokePass('expired', now - 1, now - 10, at());
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => store.revokePass(id, now + 3600, now, at())));
  expect(await store.revokedPasses()).toEqual({ a: now + 3600, b: now + 3600, c: now + 3600, d: now + 3600, e: now + 3600 });
});

it("adds a container's flushed pass uses to the pass's counter row once per sequence, answering the counts, under concurrent containers", async () => {
  const exp = 1_800_086_400;
  expect(await store.addPassUses('jti-quota', 'container-a', 1, 3, exp)).toEqual({ uses: 3, containers: 1 });
  expect(await store.addPassUses('jti-quota', 'container-b', 1, 2, exp)).toEqual({ uses: 5, containers: 2 });
  // A flush sent again after its answer was lost (same sequence), and a late one (older sequence): not counted.
  expect(await store.addPassUses('jti-quota', 'container-a', 1, 3, exp)).toBe('duplicate');
  expect(await store.addPassUses('jti-quota', 'container-a', 2, 4, exp)).toEqual({ uses: 9, containers: 2 });
  expect(await store.addPassUses('jti-quota', 'container-a', 1, 3, exp)).toBe('duplicate');
  // Eight new containers at once: each lands once, and the last answer has the sums.
  const answers = (await Promise.all(Array.from({ length: 8 }, (_, i) => store.addPassUses('jti-quota', `parallel-${i}`, 1, 10, exp)))) as Array<{ uses: number; containers: number }>;
  expect(Math.max(...answers.map((a) => a.uses))).toBe(89);
  expect(Math.max(...answers.map((a) => a.containers))).toBe(10);
  expect(new Set(answers.map((a) => a.uses)).size).toBe(8);
  const row = await store.find('#pass-uses:jti-quota');
  expect(row).toMatchObject({ uses: 89, containers: 10, passExpiresAt: exp, 'f_container-a': 2 });
  // Another pass has its own row.
  expect(await store.addPassUses('jti-other', 'container-a', 1, 1, exp)).toEqual({ uses: 1, containers: 1 });
});

it('records the quota of a pass on its receipt row, and reads it back for a re-issue', async () => {
  await store.reserve(reservedRow('pass-sale-quota'));
  await store.markSettled('pass-sale-quota', '0x03', at());
  const record = { passName: 'five', passScope: ['/articles/*'], passSeconds: 3600, passNotBefore: 1_800_000_000, passExpiresAt: 1_800_003_600, passId: 'jti-q', passQuota: 5 };
  await store.recordPass('pass-sale-quota', record, at());
  expect(await store.findPass('pass-sale-quota')).toEqual(record);
});
