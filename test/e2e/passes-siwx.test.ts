/**
 * Sign in with x end to end on the local edge (the synthesized distribution, the deployed bundles,
 * the official facilitator on a local chain, dynalite): an agent buys a pass with the official x402
 * client, keeps no token, and reads covered routes by signing in with the official
 * `@x402/extensions/sign-in-with-x` client helper, with no further transaction.
 *
 * The local edge speaks http on loopback for a distribution that only speaks https (its behaviors
 * redirect http), so the agent addresses `https://<edge>` and {@link viaLoopback} carries the
 * requests: the challenge is bound to the https origin, as in a deployment.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { createSIWxPayload, encodeSIWxHeader, wrapFetchWithSIWx, type CompleteSIWxInfo, type SIWxExtension } from '@x402/extensions/sign-in-with-x';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { PrivateKeyAccount } from 'viem';
import { SIGN_IN_MAX_AGE_SECONDS } from '../../lambda/core/passes/sign-in-challenge';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { officialClient } from '../support/payer';

const PASS_URL = '/.well-known/x402/pass/day';
/** Eligible to pay (the local WAF labels it an AI bot): without it a request passes free. */
const AS_A_BOT = { 'user-agent': 'GPTBot/1.0' };
let stack: LocalStack;
let agent: PrivateKeyAccount;
let site: string;

/** fetch for `https://<edge>` URLs over the local edge's http, answering without a `url` so clients see the https one they asked for. */
function viaLoopback(): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(new Request(request.url.replace(site, stack.edge.url), request));
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

beforeAll(async () => {
  stack = await startLocalStack({ passes: [{ name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'] }] });
  site = stack.edge.url.replace(/^http:/, 'https:');
  agent = await stack.chain.newFundedWallet(1_000_000n);
  // Buys the day pass with the official client, and forgets the token.
  const buy = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}${PASS_URL}`);
  expect(buy.status).toBe(200);
});
afterAll(() => stack?.close());

const transfers = async () => (await stack.chain.settledTransfers()).length;

/** The sign-in challenge of a covered route's 402. */
async function challenge(path: string): Promise<SIWxExtension> {
  const response = await viaLoopback()(`${site}${path}`, { headers: AS_A_BOT });
  expect(response.status).toBe(402);
  return decodePaymentRequiredHeader(response.headers.get('payment-required')!).extensions!['sign-in-with-x'] as SIWxExtension;
}

/** A read with a proof signed by the official client helper from `info` (the challenge, maybe altered). */
async function readWithProof(path: string, signer: PrivateKeyAccount, info: CompleteSIWxInfo, requestUrl = `${site}${path}`) {
  const header = encodeSIWxHeader(await createSIWxPayload(info, signer, requestUrl));
  const response = await viaLoopback()(`${site}${path}`, { headers: { ...AS_A_BOT, 'sign-in-with-x': header } });
  return { status: response.status, body: await response.json().catch(() => undefined), headers: response.headers };
}

const complete = (extension: SIWxExtension, info: Partial<CompleteSIWxInfo> = {}): CompleteSIWxInfo => ({
  ...extension.info,
  chainId: extension.supportedChains[0].chainId,
  type: extension.supportedChains[0].type,
  ...info,
});

it('advertises sign-in beside the pass offer in the 402 of a covered route, bound to the site and short-lived', async () => {
  const extension = await challenge('/articles/offer');
  expect(extension.info).toMatchObject({ domain: new URL(site).host, uri: `${site}/articles/offer`, version: '1' });
  expect(Date.parse(extension.info.expirationTime!) - Date.parse(extension.info.issuedAt)).toBe(SIGN_IN_MAX_AGE_SECONDS * 1000);
  expect(extension.supportedChains).toEqual([{ chainId: stack.config.network, type: 'eip191' }]);
  const response = await fetch(`${stack.edge.url}/api/premium-report`, { headers: AS_A_BOT });
  expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).extensions?.['sign-in-with-x']).toBeUndefined();
});

it('lets the pass holder that kept no token read 10 articles by signing in with the official client, with no transaction and no facilitator call', async () => {
  const before = { transfers: await transfers(), balance: await stack.chain.usdcBalance(agent.address), receipts: (await stack.receipts()).length };
  const calls = stack.facilitator.calls.verify + stack.facilitator.calls.settle;
  const signedIn = wrapFetchWithSIWx(viaLoopback(), agent);
  for (let i = 0; i < 10; i++) {
    const read = await signedIn(`${site}/articles/signed-in-${i}`, { headers: AS_A_BOT });
    expect(read.status).toBe(200);
    expect(await read.text()).toContain(`signed-in-${i}`);
    expect(read.headers.get('payment-response')).toBeNull();
  }
  expect(await transfers()).toBe(before.transfers);
  expect(stack.facilitator.calls.verify + stack.facilitator.calls.settle).toBe(calls);
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before.balance);
  expect((await stack.receipts()).length).toBe(before.receipts);
});

it('refuses a proof from a wallet without a pass, for another domain, or expired: 402 naming the problem, with the offers', async () => {
  const extension = await challenge('/articles/refused');
  const stranger = await stack.chain.newFundedWallet(0n);
  const cases: Array<[string, Promise<{ status: number; body: { error: string } }>]> = [
    ['sign_in_no_pass', readWithProof('/articles/refused', stranger, complete(extension))],
    ['invalid_siwx_domain_mismatch', readWithProof('/articles/refused', agent, complete(extension, { domain: 'other.example', uri: 'https://other.example/articles/refused' }), 'https://other.example/articles/refused')],
    ['invalid_siwx_expired', readWithProof('/articles/refused', agent, complete(extension, { expirationTime: new Date(Date.now() - 1000).toISOString() }))],
    [
      'invalid_siwx_issued_at_too_old',
      readWithProof('/articles/refused', agent, complete(extension, { issuedAt: new Date(Date.now() - (SIGN_IN_MAX_AGE_SECONDS + 60) * 1000).toISOString(), expirationTime: undefined })),
    ],
  ];
  const origin = stack.origin.requests;
  for (const [reason, answer] of cases) {
    const { status, body, headers } = (await answer) as Awaited<ReturnType<typeof readWithProof>>;
    expect({ reason, status, error: body?.error }).toEqual({ reason, status: 402, error: reason });
    const offers = decodePaymentRequiredHeader(headers.get('payment-required')!).extensions!;
    expect(Object.keys(offers).sort()).toEqual(['sign-in-with-x', 'x402-pass']);
  }
  expect(stack.origin.requests).toBe(origin);
});

it('refuses a proof of the pass holder outside the pass scope', async () => {
  const extension = await challenge('/articles/scope');
  // A proof for this site, presented on a priced route the pass does not open.
  const read = await readWithProof('/api/premium-report', agent, complete(extension, { uri: `${site}/api/premium-report` }));
  expect({ status: read.status, error: read.body?.error }).toEqual({ status: 402, error: 'pass_out_of_scope' });
});
