/**
 * A pass with a quota end to end on the local edge (the synthesized distribution, the deployed
 * bundles in Lambda containers, the official facilitator on a local chain, dynalite): the official
 * v2 client buys a pass of 5 requests, reads 5 articles with it and is refused the 6th. The reads
 * are sequential, so one warm viewer-request container serves them (local/lambda-container.ts
 * reuses an idle container), as one agent's reads at one edge location would be.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { wrapFetchWithPayment } from '@x402/fetch';
import { DynamoReceiptStore } from '../../lambda/edge/dynamo-receipt-store';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { officialClient } from '../support/payer';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ passes: [{ name: 'five', price: '$0.01', duration: '1h', routes: ['/articles/*'], quota: 5 }] });
});
afterAll(() => stack?.close());

it('admits 5 reads with a pass of quota 5, refuses the 6th with pass_quota_exhausted and the offer, and counts 5 uses on its counter row', async () => {
  const agent = await stack.chain.newFundedWallet(1_000_000n);
  const buy = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}/.well-known/x402/pass/five`);
  expect(buy.status).toBe(200);
  const sale = await buy.json();
  const claims = JSON.parse(Buffer.from(sale.pass.split('.')[1], 'base64url').toString());
  expect(claims.quota).toBe(5);

  const read = (i: number) => fetch(`${stack.edge.url}/articles/quota-${i}`, { headers: { authorization: `Bearer ${sale.pass}`, 'user-agent': 'GPTBot/1.0' } });
  const origin = stack.origin.requests;
  for (let i = 1; i <= 5; i++) {
    const response = await read(i);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`quota-${i}`);
  }
  const refused = await read(6);
  expect(refused.status).toBe(402);
  expect((await refused.json()).error).toBe('pass_quota_exhausted');
  const required = decodePaymentRequiredHeader(refused.headers.get('payment-required')!);
  expect(required.accepts[0].amount).toBe('1000');
  expect(required.extensions?.['x402-pass']).toMatchObject({ passes: [{ name: 'five', amount: '10000' }] });
  expect(stack.origin.requests).toBe(origin + 5);

  // The flushes run after the responses: wait for the last one to land.
  const store = new DynamoReceiptStore(stack.dynamo.client, stack.config.receiptTable.tableName);
  const counted = async () => ((await store.find(`#pass-uses:${sale.passId}`)) as Record<string, unknown> | undefined)?.uses;
  for (let tries = 0; tries < 50 && (await counted()) !== 5; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await counted()).toBe(5);
  // The pass receipt records the quota it was sold with.
  expect((await stack.receipts()).find((r) => r.passId === sale.passId)).toMatchObject({ kind: 'pass', passQuota: 5, amount: '10000' });
});
