/**
 * The batch-settlement terms (pure) and the scheme's fail-closed paths: a channel store that throws
 * answers 503 and serves nothing; a commit that finds no reservation withholds the content; what
 * is not a deposit or a voucher is a 400 naming the problem. The whole flow against the real
 * chain, dynalite and facilitator is test/e2e/batch-settlement.test.ts.
 */
import { BATCH_SETTLEMENT_ADDRESS } from '@x402/evm';
import { privateKeyToAccount } from 'viem/accounts';
import type { ChannelRow, ChannelStorePort } from '../../lambda/core/batch/channel-books';
import { LedgerReasons } from '../../lambda/core/batch/ledger';
import { BatchSettlementScheme, type BatchHandoff } from '../../lambda/core/batch/scheme';
import { batchExtra, correctiveRequirements, minDepositOf } from '../../lambda/core/batch/terms';
import { channelIdOf, checkVoucher, type ChannelConfig } from '../../lambda/core/batch/voucher';
import type { DecodedPayment } from '../../lambda/core/payment-header';
import type { FacilitatorPort } from '../../lambda/core/ports';
import type { Receipt } from '../../lambda/core/receipt';
import { isRejection } from '../../lambda/core/rejection';
import { routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';

const config = testEdgeConfig({ routes: [{ pattern: '/feed/**', scheme: 'batch-settlement', price: '$0.001' }] });
const RECEIVER_AUTHORIZER = '0x00000000000000000000000000000000000000aA' as const;
const terms = routeTerms(compileRoutes(config)[0]!, config, undefined, RECEIVER_AUTHORIZER);
const payer = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const channelConfig: ChannelConfig = {
  payer: payer.address,
  payerAuthorizer: payer.address,
  receiver: config.payTo as `0x${string}`,
  receiverAuthorizer: RECEIVER_AUTHORIZER,
  token: config.asset.address as `0x${string}`,
  withdrawDelay: 900,
  salt: `0x${'00'.repeat(32)}`,
};
const channelId = channelIdOf(channelConfig, 84532);

async function voucherPayment(amount: bigint): Promise<DecodedPayment> {
  const signature = await payer.signTypedData({
    domain: { name: 'x402 Batch Settlement', version: '1', chainId: 84532, verifyingContract: BATCH_SETTLEMENT_ADDRESS },
    types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] },
    primaryType: 'Voucher',
    message: { channelId, maxClaimableAmount: amount },
  });
  const payload = { type: 'voucher', channelConfig, voucher: { channelId, maxClaimableAmount: amount.toString(), signature } };
  return { x402Version: 2, payload: { x402Version: 2, accepted: terms.requirements, payload } } as DecodedPayment;
}

type ReadBack = Pick<ChannelRow, 'pending' | 'committed'>;
const noRow: ReadBack = { pending: new Map(), committed: new Map() };

/**
 * A store whose every call fails as an unreachable table does, or whose `commitCharged` answers
 * `committed` and whose row, read back after a commit that found no reservation, is `row` (its
 * read fails when absent); with `calls`, how often each method was called.
 */
/** `down`: every call fails; `no-row`: the table is up and has no row for the channel, every write fails. */
function store(behaviour: 'down' | 'no-row' | { committed: bigint | undefined; row?: ReadBack }) {
  const fail = () => Promise.reject(new Error('connect ECONNREFUSED'));
  const calls: Record<string, number> = {};
  const answers: Partial<Record<keyof ChannelStorePort, () => Promise<unknown>>> =
    behaviour === 'down'
      ? {}
      : behaviour === 'no-row'
        ? { get: () => Promise.resolve(undefined) }
        : {
          commitCharged: () => Promise.resolve(behaviour.committed),
          get: () => (behaviour.row ? Promise.resolve(behaviour.row) : fail()),
          recordServed: () => Promise.resolve(),
        };
  const port = new Proxy({} as ChannelStorePort, {
    get: (_, name: keyof ChannelStorePort) => () => {
      calls[name] = (calls[name] ?? 0) + 1;
      return (answers[name] ?? fail)();
    },
  });
  return { port, calls };
}

/** `facilitatorAuthorizer`: what the facilitator's /supported names as receiver authorizer (`unreadable`: none). */
function scheme(channels: ChannelStorePort, verify: FacilitatorPort['verify'] = () => Promise.reject(new Error('no facilitator call expected')), facilitatorAuthorizer: string = RECEIVER_AUTHORIZER) {
  const errors: string[] = [];
  const facilitator = { verify, settle: () => Promise.reject(new Error('no facilitator call expected')) };
  const made = new BatchSettlementScheme(config, {
    facilitator,
    channels,
    clock: () => 1_700_000_000_000,
    log: () => {},
    storeError: (operation) => errors.push(operation),
    checkVoucher,
    facilitatorReceiverAuthorizer: () => Promise.resolve(facilitatorAuthorizer === 'unreadable' ? undefined : facilitatorAuthorizer),
  });
  return { made, errors };
}

const handoff: BatchHandoff = { kind: 'batch', routeIndex: 0, resource: 'https://example.com/feed/1', channelId, reservationId: 'abcdefghijklmnop', payer: payer.address.toLowerCase() };

describe('batch-settlement terms', () => {
  it('asks for 10 × the price by default, and at least one request when configured lower', () => {
    expect(minDepositOf({ price: '1000', withdrawDelay: 900 })).toBe('10000');
    expect(minDepositOf({ price: '1000', minDeposit: '50000', withdrawDelay: 900 })).toBe('50000');
    expect(minDepositOf({ price: '1000', minDeposit: '10', withdrawDelay: 900 })).toBe('1000');
  });

  it('offers what the official client needs in extra, and the corrective state on top of it', () => {
    expect(terms.requirements.extra).toEqual(batchExtra(config.asset, { price: '1000', withdrawDelay: 900 }, RECEIVER_AUTHORIZER));
    expect(terms.requirements.extra).toEqual({ name: 'USDC', version: '2', receiverAuthorizer: RECEIVER_AUTHORIZER, withdrawDelay: 900, minDeposit: '10000' });
    const corrected = correctiveRequirements(terms.requirements, {
      channelId,
      chargedCumulativeAmount: 3000n,
      balance: 10_000n,
      totalClaimed: 1000n,
      withdrawRequestedAt: 0,
      refundNonce: 0n,
      signedMax: 4000n,
      signature: '0xabcd',
    });
    expect(corrected.extra).toEqual({
      ...terms.requirements.extra,
      channelState: { channelId, balance: '10000', totalClaimed: '1000', withdrawRequestedAt: 0, refundNonce: '0', chargedCumulativeAmount: '3000' },
      voucherState: { signedMaxClaimable: '4000', signature: '0xabcd' },
    });
    // The offered requirements stay as they were (deep equality of the retry is checked against them).
    expect(terms.requirements.extra).not.toHaveProperty('channelState');
  });
});

describe('the batch-settlement scheme fails closed', () => {
  it('a channel store that is down: 503 on the voucher, nothing forwarded', async () => {
    const { made, errors } = scheme(store('down').port);
    const admitted = await made.admit(await voucherPayment(1000n), terms, 0, handoff.resource, () => 5000);
    expect(isRejection(admitted) && [admitted.status, admitted.reason]).toEqual([503, 'receipt_store_unavailable']);
    expect(errors).toEqual(['reserveIncrement']);
  });

  it('a commit that cannot be written withholds the content (503); a failed origin only tries to release', async () => {
    const { made } = scheme(store('down').port);
    const settled = await made.settle(handoff, terms, 200);
    expect(settled.kind === 'refused' && [settled.rejection.status, settled.rejection.reason]).toEqual([503, 'receipt_store_unavailable']);
    expect(await made.settle(handoff, terms, 502)).toEqual({ kind: 'released' });
  });

  it('a commit that finds no reservation and no marker of its own (swept as expired) withholds the content', async () => {
    const { made } = scheme(store({ committed: undefined, row: noRow }).port);
    const settled = await made.settle(handoff, terms, 200);
    expect(settled.kind === 'refused' && [settled.rejection.status, settled.rejection.reason]).toEqual([503, 'batch_settlement_reservation_expired']);
  });

  it('a commit whose answer was lost (its retry found the reservation gone) serves with what its marker says, once', async () => {
    const marker = { amount: 1000n, chargedTo: 9000n, committedAt: 1_700_000_000, route: '/feed/**', resource: handoff.resource };
    const channels = store({ committed: undefined, row: { pending: new Map(), committed: new Map([[handoff.reservationId, marker]]) } });
    const settled = await scheme(channels.port).made.settle(handoff, terms, 200);
    expect(settled.kind === 'served' && settled.charged).toBe(9000n);
    expect(channels.calls).toEqual({ commitCharged: 1, get: 1, recordServed: 1 });
  });

  it('a commit that failed with its reservation still there is tried once more, then withheld with nothing charged', async () => {
    const channels = store({ committed: undefined, row: { pending: new Map([[handoff.reservationId, { amount: 1000n, expiresAt: 1_700_000_120 }]]), committed: new Map() } });
    const settled = await scheme(channels.port).made.settle(handoff, terms, 200);
    expect(settled.kind === 'refused' && [settled.rejection.status, settled.rejection.reason, settled.rejection.message]).toEqual([503, 'receipt_store_unavailable', expect.stringContaining('nothing was charged')]);
    expect(channels.calls).toEqual({ commitCharged: 2, get: 2 });
  });

  it('a commit whose outcome cannot even be read back withholds the content without claiming nothing was charged', async () => {
    const channels = store({ committed: undefined });
    const { made, errors } = scheme(channels.port);
    const settled = await made.settle(handoff, terms, 200);
    expect(settled.kind === 'refused' && [settled.rejection.status, settled.rejection.reason]).toEqual([503, 'receipt_store_unavailable']);
    expect(settled.kind === 'refused' && settled.rejection.message).not.toContain('nothing was charged');
    expect(errors).toEqual(['readCommit']);
    expect(channels.calls).toEqual({ commitCharged: 1, get: 1 });
  });

  it('a committed increment answers the official PAYMENT-RESPONSE shape', async () => {
    const { made } = scheme(store({ committed: 7000n }).port);
    expect(await made.settle(handoff, terms, 200)).toEqual({
      kind: 'served',
      charged: 7000n,
      settlement: { success: true, transaction: '', network: 'eip155:84532', payer: payer.address.toLowerCase(), amount: '', extra: { chargedAmount: '1000', channelState: { channelId, chargedCumulativeAmount: '7000' } } },
    });
  });

  it("the next commit on the channel removes the markers of commits whose receipt was written, and only those", async () => {
    const offered: Array<readonly string[]> = [];
    let receiptWrites = 0;
    const failReceiptsOf = new Set(['failedreceipt01']);
    const recording = new Proxy({} as ChannelStorePort, {
      get: (_, name) =>
        name === 'commitCharged'
          ? (_c: string, _r: string, _p: bigint, _q: unknown, receipted: readonly string[]) => {
              offered.push(receipted);
              return Promise.resolve(7000n);
            }
          : name === 'recordServed'
            ? (receipt: Receipt) => {
                receiptWrites++;
                return failReceiptsOf.has(receipt.nonce) ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve();
              }
            : () => Promise.reject(new Error('unexpected call')),
    });
    const { made } = scheme(recording);
    for (const reservationId of ['firstrequest001', 'failedreceipt01', 'thirdrequest001']) await made.settle({ ...handoff, reservationId }, terms, 200);
    // The failed receipt's marker stays for the claims run (which writes the receipt); the first went with the second commit.
    expect(offered).toEqual([[], ['firstrequest001'], []]);
    expect(receiptWrites).toBe(5);
  });

  it("records the hand-off's verified agent and bot on the served request's receipt", async () => {
    const served: Receipt[] = [];
    const recording = new Proxy({} as ChannelStorePort, {
      get: (_, name) => (name === 'commitCharged' ? () => Promise.resolve(7000n) : name === 'recordServed' ? (receipt: Receipt) => Promise.resolve(void served.push(receipt)) : () => Promise.reject(new Error('unexpected call'))),
    });
    await scheme(recording).made.settle({ ...handoff, agent: 'waf-agent', botCategory: 'ai', botOrganization: 'example-ai' }, terms, 200);
    expect(served).toMatchObject([{ scheme: 'batch-settlement', amount: '1000', agent: 'waf-agent', botCategory: 'ai', botOrganization: 'example-ai' }]);
  });

  it('refuses a deposit onto a channel being withdrawn or refunded before any facilitator call (nothing deposited); a store that is down: 503', async () => {
    const depositOn = async (row: Partial<ChannelRow> | 'down') => {
      const channels = row === 'down' ? store('down').port : ({ get: () => Promise.resolve({ withdrawalPending: false, ...row }) } as unknown as ChannelStorePort);
      const { made, errors } = scheme(channels);
      const voucher = await voucherPayment(1000n);
      const deposit = { ...voucher, payload: { ...voucher.payload, payload: { ...(voucher.payload.payload as object), type: 'deposit', deposit: { amount: '10000' } } } } as DecodedPayment;
      const r = await made.admit(deposit, terms, 0, handoff.resource, () => 5000);
      return { refusal: isRejection(r) ? [r.status, r.reason] : r, errors };
    };
    expect((await depositOn({ withdrawalPending: true })).refusal).toEqual([402, LedgerReasons.withdrawalPending]);
    expect((await depositOn({ closing: true, closingAt: 1_700_000_000 })).refusal).toEqual([402, LedgerReasons.channelClosing]);
    expect(await depositOn('down')).toEqual({ refusal: [503, 'receipt_store_unavailable'], errors: ['readChannel'] });
    // Refunded: a deposit is what reopens it, so it goes on to the facilitator (here: none, so 503 facilitator_unavailable).
    expect((await depositOn({ closing: true, closingAt: 1_700_000_000, refundedAt: 1_700_000_100 })).refusal).toEqual([503, 'facilitator_unavailable']);
  });

  it('a voucher on a channel without a row opens none when the facilitator verifies it without its chain state, or with another channel\'s: 503', async () => {
    const unknownChannel = store({ committed: undefined });
    const reserve = () => Promise.resolve({ status: 'refused', reason: 'batch_settlement_channel_unknown' });
    const port = new Proxy(unknownChannel.port, { get: (target, name: keyof ChannelStorePort) => (name === 'reserve' ? reserve : target[name]) });
    const state = { balance: '10000', totalClaimed: '0', withdrawRequestedAt: 0, refundNonce: '0' };
    for (const extra of [undefined, { ...state, channelId: `0x${'ab'.repeat(32)}` }]) {
      const { made } = scheme(port, () => Promise.resolve({ isValid: true, payer: payer.address, ...(extra ? { extra } : {}) }));
      const admitted = await made.admit(await voucherPayment(1000n), terms, 0, handoff.resource, () => 5000);
      expect(isRejection(admitted) && [admitted.status, admitted.reason]).toEqual([503, 'unexpected_verify_error']);
    }
    expect(unknownChannel.calls.open).toBeUndefined();
    // With the channel's own state, the row opens (here the store is down: 503, nothing reserved).
    const { made, errors } = scheme(port, () => Promise.resolve({ isValid: true, payer: payer.address, extra: { ...state, channelId } }));
    const admitted = await made.admit(await voucherPayment(1000n), terms, 0, handoff.resource, () => 5000);
    expect(isRejection(admitted) && [admitted.status, admitted.reason]).toEqual([503, 'receipt_store_unavailable']);
    expect([unknownChannel.calls.open, errors]).toEqual([1, ['reserveIncrement']]);
  });

  it('refuses x402 v1, other payload types and malformed vouchers before any I/O', async () => {
    const { made } = scheme(store('down').port);
    const good = await voucherPayment(1000n);
    const refusal = async (payment: DecodedPayment) => {
      const r = await made.admit(payment, terms, 0, handoff.resource, () => 5000);
      return isRejection(r) ? [r.status, r.reason] : r;
    };
    expect(await refusal({ ...good, x402Version: 1 } as unknown as DecodedPayment)).toEqual([400, 'invalid_x402_version']);
    const withPayload = (payload: unknown) => ({ x402Version: 2, payload: { ...good.payload, payload } }) as DecodedPayment;
    expect(await refusal(withPayload({ type: 'refund' }))).toEqual([400, 'invalid_batch_settlement_evm_payload_type']);
    expect(await refusal(withPayload({ type: 'voucher', channelConfig }))).toEqual([400, 'invalid_batch_settlement_evm_voucher_payload']);
    const otherChannel = { ...(good.payload.payload as object), channelConfig: { ...channelConfig, withdrawDelay: 3600 } };
    expect(await refusal(withPayload(otherChannel))).toEqual([402, 'invalid_batch_settlement_evm_channel_id_mismatch']);
  });

  it("refuses a deposit below the route's minDeposit, or without an amount, before the facilitator or the table", async () => {
    const { port, calls } = store('no-row');
    const { made } = scheme(port);
    const good = await voucherPayment(1000n);
    const deposit = (amount: unknown) => ({ x402Version: 2, payload: { ...good.payload, payload: { ...(good.payload.payload as object), type: 'deposit', deposit: { amount } } } }) as DecodedPayment;
    const short = await made.admit(deposit('9999'), terms, 0, handoff.resource, () => 5000);
    expect(isRejection(short) && [short.status, short.reason]).toEqual([402, 'batch_settlement_deposit_below_min_deposit']);
    expect(isRejection(short) && short.message).toMatch(/\(9999\) is below this route's minDeposit \(10000/);
    const malformed = await made.admit(deposit('1e6'), terms, 0, handoff.resource, () => 5000);
    expect(isRejection(malformed) && [malformed.status, malformed.reason]).toEqual([400, 'invalid_batch_settlement_evm_voucher_payload']);
    expect(calls).toEqual({});
    // Enough: the deposit goes on to the facilitator (here unreachable: 503, nothing deposited).
    const enough = await made.admit(deposit('10000'), terms, 0, handoff.resource, () => 5000);
    expect(isRejection(enough) && [enough.status, enough.reason]).toEqual([503, 'facilitator_unavailable']);
  });

  it("takes no deposit into a channel the facilitator cannot claim: its receiver authorizer is another, or unreadable (503, no verify)", async () => {
    const good = await voucherPayment(1000n);
    const deposit = { x402Version: 2, payload: { ...good.payload, payload: { ...(good.payload.payload as object), type: 'deposit', deposit: { amount: '10000' } } } } as DecodedPayment;
    const other = scheme(store('no-row').port, undefined, `0x${'bb'.repeat(20)}`).made;
    const mismatch = await other.admit(deposit, terms, 0, handoff.resource, () => 5000);
    expect(isRejection(mismatch) && [mismatch.status, mismatch.reason]).toEqual([503, 'batch_settlement_receiver_authorizer_mismatch']);
    const unreadable = scheme(store('no-row').port, undefined, 'unreadable').made;
    const unknown = await unreadable.admit(deposit, terms, 0, handoff.resource, () => 5000);
    expect(isRejection(unknown) && [unknown.status, unknown.reason]).toEqual([503, 'batch_settlement_receiver_authorizer_unknown']);
  });
});
