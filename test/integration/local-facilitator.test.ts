/**
 * The local facilitator with real parts: the official x402 client (and the legacy v1 x402-fetch)
 * signs, the official HTTPFacilitatorClient talks to local/facilitator.ts over HTTP, and the
 * official facilitator settles on the local chain.
 */
import { x402Client } from '@x402/core/client';
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import type { Address, Hex, PrivateKeyAccount } from 'viem';
import { startLocalChain, type LocalChain } from '../../local/chain';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const SLOW_MS = 400;

let chain: LocalChain;
let fac: LocalFacilitator;
let http: HTTPFacilitatorClient;

beforeAll(async () => {
  chain = await startLocalChain();
  fac = await startLocalFacilitator(chain, { slowMs: SLOW_MS });
  http = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 5000 });
});
afterAll(async () => {
  await fac?.close();
  await chain?.close();
});
afterEach(() => fac.setFault('none'));

function requirements(overrides: Partial<PaymentRequirements> = {}): PaymentRequirements {
  return {
    scheme: 'exact',
    network: 'eip155:84532',
    amount: '1000',
    asset: chain.usdc,
    payTo: PAY_TO,
    maxTimeoutSeconds: 60,
    extra: { name: 'USDC', version: '2' },
    ...overrides,
  };
}

/** The official v2 client with its default spend controls. */
function payerClient(account: PrivateKeyAccount): x402Client {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: toClientEvmSigner(account) });
  return client;
}

function pay(client: x402Client, req = requirements()): Promise<PaymentPayload> {
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: 'http://127.0.0.1/paid', description: 'test', mimeType: 'application/json' },
    accepts: [req],
  });
}

const authorizationOf = (p: PaymentPayload) => (p.payload as { authorization: { from: Address; nonce: Hex; value: string } }).authorization;

async function postJson(path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${fac.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('local facilitator (official x402 packages end to end)', () => {
  it('GET /supported lists v2 eip155:84532, v1 base-sepolia and the facilitator signer', async () => {
    const supported = await http.getSupported();
    expect(supported.kinds).toEqual(
      expect.arrayContaining([
        { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
        { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
      ]),
    );
    expect(supported.signers['eip155:*']).toEqual([chain.facilitatorAccount.address]);
  });

  it('verifies and settles a v2 payment: balances move by exactly the amount, once', async () => {
    const payer = await chain.newFundedWallet(1_000_000n);
    // Default spend controls accept Base Sepolia USDC: no setSpendControls needed.
    const payload = await pay(payerClient(payer));
    expect(payload.x402Version).toBe(2);
    expect(payload.accepted).toEqual(requirements());
    const auth = authorizationOf(payload);
    expect(auth).toMatchObject({ from: payer.address, value: '1000' });

    const payToBefore = await chain.usdcBalance(PAY_TO);
    const verified = await http.verify(payload, requirements());
    expect(verified).toMatchObject({ isValid: true, payer: payer.address });

    const t = performance.now();
    const settled = await http.settle(payload, requirements());
    const settleMs = performance.now() - t;
    expect(settled).toMatchObject({ success: true, network: 'eip155:84532', payer: payer.address });
    expect(settled.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(settleMs).toBeLessThan(2000);

    const receipt = await chain.publicClient.getTransactionReceipt({ hash: settled.transaction as Hex });
    expect(receipt.status).toBe('success');
    expect(receipt.from.toLowerCase()).toBe(chain.facilitatorAccount.address.toLowerCase());
    expect(await chain.usdcBalance(payer.address)).toBe(999_000n);
    expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(1000n);
    expect(await chain.authorizationUsed(payer.address, auth.nonce)).toBe(true);
    expect(await chain.settledTransfers()).toContainEqual({
      txHash: settled.transaction,
      blockNumber: receipt.blockNumber,
      from: payer.address,
      to: PAY_TO,
      value: 1000n,
      nonce: auth.nonce,
      scheme: 'exact',
    });

    // Replays: settle and verify both report the used nonce (verify via the Multicall3 diagnosis).
    const again = await http.settle(payload, requirements());
    expect(again).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used', transaction: '' });
    const reverify = await http.verify(payload, requirements());
    expect(reverify).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_nonce_already_used' });
    expect(await chain.usdcBalance(payer.address)).toBe(999_000n);
  });

  it('rejects a tampered amount (invalid signature), a wrong payee and an unfunded payer', async () => {
    const payer = await chain.newFundedWallet(1_000_000n);
    const payload = await pay(payerClient(payer));
    const tampered: PaymentPayload = {
      ...payload,
      accepted: requirements({ amount: '2000' }),
      payload: { ...payload.payload, authorization: { ...authorizationOf(payload), value: '2000' } },
    };
    expect(await http.verify(tampered, requirements({ amount: '2000' }))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_signature',
    });
    expect(await http.settle(tampered, requirements({ amount: '2000' }))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_signature',
    });
    const otherPayee = requirements({ payTo: '0x000000000000000000000000000000000000dEaD' });
    expect(await http.verify({ ...payload, accepted: otherPayee }, otherPayee)).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_recipient_mismatch',
    });

    const broke = await chain.newFundedWallet(0n);
    expect(await http.verify(await pay(payerClient(broke)), requirements())).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_insufficient_balance',
    });
    expect(await chain.usdcBalance(payer.address)).toBe(1_000_000n);
  });

  it('settles 20 distinct payments concurrently without facilitator nonce collisions', async () => {
    const payers = await Promise.all(Array.from({ length: 4 }, () => chain.newFundedWallet(1_000_000n)));
    const payloads = await Promise.all(Array.from({ length: 20 }, (_, i) => pay(payerClient(payers[i % 4]!))));
    const payToBefore = await chain.usdcBalance(PAY_TO);
    const transfersBefore = (await chain.settledTransfers()).length;

    const results = await Promise.all(payloads.map((p) => http.settle(p, requirements())));
    expect(results.map((r) => r.errorReason ?? 'ok')).toEqual(Array(20).fill('ok'));
    expect(new Set(results.map((r) => r.transaction)).size).toBe(20);
    expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(20_000n);
    const transfers = (await chain.settledTransfers()).slice(transfersBefore);
    expect(transfers.map((t) => t.nonce).sort()).toEqual(payloads.map((p) => authorizationOf(p).nonce).sort());
  });

  it('settles a legacy v1 X-PAYMENT made by x402-fetch 1.2.0 (network base-sepolia)', async () => {
    const { wrapFetchWithPayment } = await import('x402-fetch');
    const payer = await chain.newFundedWallet(1_000_000n);
    const v1Requirements = {
      scheme: 'exact',
      network: 'base-sepolia',
      maxAmountRequired: '1000',
      resource: 'http://127.0.0.1/paid',
      description: 'test',
      mimeType: 'application/json',
      payTo: PAY_TO,
      maxTimeoutSeconds: 60,
      asset: chain.usdc,
      extra: { name: 'USDC', version: '2' },
    };
    // A stub server: 402 with the v1 JSON body, then capture the X-PAYMENT retry.
    let xPayment: string | undefined;
    const stubFetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      if (!headers['X-PAYMENT']) {
        return new Response(JSON.stringify({ x402Version: 1, error: 'X-PAYMENT header is required', accepts: [v1Requirements] }), { status: 402 });
      }
      xPayment = headers['X-PAYMENT'];
      return new Response('paid', { status: 200 });
    }) as typeof fetch;
    // A viem local account is a valid v1 signer; maxValue is in atomic units (default 0.1 USDC).
    const fetchWithPay = wrapFetchWithPayment(stubFetch, payer as never, 1000n);
    expect((await fetchWithPay('http://127.0.0.1/paid')).status).toBe(200);

    const payload = JSON.parse(Buffer.from(xPayment!, 'base64').toString('utf8')) as PaymentPayload & { network: string };
    expect(payload).toMatchObject({ x402Version: 1, scheme: 'exact', network: 'base-sepolia' });
    const req = v1Requirements as unknown as PaymentRequirements;
    expect(await http.verify(payload, req)).toMatchObject({ isValid: true, payer: payer.address });
    const settled = await http.settle(payload, req);
    expect(settled).toMatchObject({ success: true, network: 'base-sepolia' });
    expect(await chain.usdcBalance(payer.address)).toBe(999_000n);
    // v1 replays fail too, but the v1 scheme puts viem's whole error text into errorReason.
    const again = await http.settle(payload, req);
    expect(again.success).toBe(false);
    expect(again.errorReason).toMatch(/authorization is used or canceled/);
  });

  it('answers malformed requests with 400 JSON and unknown routes with 404', async () => {
    const payload = await pay(payerClient(await chain.newFundedWallet(1_000_000n)));
    const body = (over: Record<string, unknown>) => JSON.stringify({ x402Version: 2, paymentPayload: payload, paymentRequirements: requirements(), ...over });

    expect(await postJson('/verify', '{not json')).toEqual({ status: 400, json: { isValid: false, invalidReason: 'invalid_payload', invalidMessage: 'body is not JSON' } });
    expect(await postJson('/settle', '[]')).toMatchObject({ status: 400, json: { success: false, errorReason: 'invalid_payload', transaction: '' } });
    expect(await postJson('/verify', body({ paymentRequirements: { scheme: 'exact' } }))).toMatchObject({
      status: 400,
      json: { isValid: false, invalidReason: 'invalid_payment_requirements' },
    });
    expect(await postJson('/verify', body({ paymentPayload: { ...payload, payload: { signature: '0x' } } }))).toMatchObject({
      status: 400,
      json: { invalidReason: 'invalid_payload' },
    });
    expect(await postJson('/settle', body({ x402Version: 1 }))).toMatchObject({ status: 400, json: { errorReason: 'invalid_x402_version' } });
    const mainnet = requirements({ network: 'eip155:8453' });
    expect(await postJson('/verify', body({ paymentPayload: { ...payload, accepted: mainnet }, paymentRequirements: mainnet }))).toMatchObject({
      status: 400,
      json: { isValid: false, invalidReason: 'unsupported_scheme' },
    });
    expect((await fetch(`${fac.url}/nope`)).status).toBe(404);

    // The official client surfaces a 400 verify answer as a VerifyError carrying the reason.
    await expect(http.verify({ ...payload, payload: {} }, requirements())).rejects.toMatchObject({
      name: 'VerifyError',
      statusCode: 400,
      invalidReason: 'invalid_payload',
    });
  });

  describe('fault modes', () => {
    it('down: connections are reset, the client rejects', async () => {
      const payload = await pay(payerClient(await chain.newFundedWallet(1_000_000n)));
      const before = fac.calls.verify;
      fac.setFault('down');
      await expect(http.verify(payload, requirements())).rejects.toThrow(/fetch failed/);
      expect(fac.calls.verify).toBe(before + 1);
    });

    it('unavailable: 503, the client rejects; garbage: 200 non-JSON, the client rejects', async () => {
      const payload = await pay(payerClient(await chain.newFundedWallet(1_000_000n)));
      fac.setFault('unavailable');
      await expect(http.settle(payload, requirements())).rejects.toThrow(/503/);
      fac.setFault('garbage');
      await expect(http.verify(payload, requirements())).rejects.toThrow(/invalid JSON/);
      await expect(http.getSupported()).rejects.toThrow(/invalid JSON/);
      // Neither mode did any work: the payment is still unsettled and settles once healthy.
      expect(await chain.authorizationUsed(authorizationOf(payload).from, authorizationOf(payload).nonce)).toBe(false);
      fac.setFault('none');
      expect(await http.settle(payload, requirements())).toMatchObject({ success: true });
    });

    it('slow: the client times out although the settlement does reach the chain', async () => {
      const payer = await chain.newFundedWallet(1_000_000n);
      const payload = await pay(payerClient(payer));
      fac.setFault('slow');
      const impatient = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 100 });
      await expect(impatient.settle(payload, requirements())).rejects.toMatchObject({ name: 'FacilitatorTimeoutError' });
      // Held back, not dropped: the transfer is on chain before the (late) answer.
      const deadline = Date.now() + 2000;
      while (!(await chain.authorizationUsed(payer.address, authorizationOf(payload).nonce)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await chain.usdcBalance(payer.address)).toBe(999_000n);
      // A patient client gets the (slow) answer.
      const t = Date.now();
      expect(await http.getSupported()).toHaveProperty('kinds');
      expect(Date.now() - t).toBeGreaterThanOrEqual(SLOW_MS - 50);
    });
  });
});
