/**
 * `cdk-x402 reconcile` against real parts: the local edge writes receipts in doubt for real (the
 * official facilitator settles but its answer is held back, the chain's receipt lookup fails, the
 * facilitator is down at settle, the origin times out), the payer cancels one authorization and
 * spends another elsewhere, and reconcile closes them from the local chain over its loopback RPC.
 * Metered (upto) rows too: the Permit2 nonce bitmap and the upto proxy's settlement decide them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentPayload } from '@x402/core/types';
import { createWalletClient, custom, numberToHex, parseAbi, type Hex, type PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ExitCode } from '../../cli/errors';
import { IN_DOUBT_REASONS, type Receipt } from '../../lambda/core/receipt';
import { DynamoReceiptStore } from '../../lambda/edge/dynamo-receipt-store';
import { LOCAL_USDC_EIP712, localUsdcAbi } from '../../local/chain';
import { officialClientFor } from '../../local/agent';
import { SAMPLE_ROUTES, startLocalStack, type LocalStack } from '../../local/stack';
import { cli } from '../support/cli';
import { edgeFetch, expectReceiptsReconcile, paymentHeader, signedPaymentFor } from '../support/edge-client';

let stack: LocalStack;
let gas: PrivateKeyAccount;
const FUNDS = 100_000n;
const PRICE = 1000n;
/** The metered route's maximum, and what its origin reports using. */
const MAXIMUM = 5000n;
const USED = 1234n;
/** One payer and one payment per situation, so balances tell each story apart. */
const cases: Record<'slow' | 'rpc' | 'down' | 'timeout' | 'canceled' | 'elsewhere' | 'paid' | 'meteredSlow' | 'meteredDown', { payer: PrivateKeyAccount; payment: PaymentPayload; path: string }> = {} as never;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The nonce as the receipt holds it: EIP-3009's bytes32, or the Permit2 nonce of an upto payment as 32 bytes. */
const nonceOf = (payment: PaymentPayload) => {
  const payload = payment.payload as { authorization?: { nonce: Hex }; permit2Authorization?: { nonce: string } };
  return payload.permit2Authorization ? numberToHex(BigInt(payload.permit2Authorization.nonce), { size: 32 }) : payload.authorization!.nonce;
};
const rowOf = async (name: keyof typeof cases): Promise<Receipt> => (await stack.receipts()).find((r) => r.nonce.toLowerCase() === nonceOf(cases[name].payment).toLowerCase())!;
const reconcile = (args: string[], rpcUrl = stack.chain.rpcUrl) =>
  cli(['reconcile', '--table', stack.config.receiptTable.tableName, '--region', 'us-east-1', '--rpc-url', rpcUrl, ...args], { dynamo: stack.dynamo.client, now: Date.now() });
const byNonce = (rows: Array<{ nonce: string; outcome: string; write: string; amount: string }>, name: keyof typeof cases) => rows.find((r) => r.nonce.toLowerCase() === nonceOf(cases[name].payment).toLowerCase());
const snapshot = async () => JSON.stringify((await stack.receipts()).sort((a, b) => a.paymentId.localeCompare(b.paymentId)));

/** A paid request whose settlement runs into `fault`, applied once verify and the reservation are done. */
async function paidRequestWithFaultAtSettle(name: keyof typeof cases, fault: () => void, originDelayMs = 400): Promise<Response> {
  const payer = await stack.chain.newFundedWallet(FUNDS);
  const metered = name.startsWith('metered');
  const path = metered ? `/metered/reconcile-${name}` : `/articles/reconcile-${name}`;
  if (metered) await stack.chain.approvePermit2(payer);
  const payment = metered ? await officialUptoPayment(payer, path) : await signedPaymentFor(stack, payer, path);
  cases[name] = { payer, payment, path };
  stack.origin.setBehavior(path, { delayMs: originDelayMs, ...(metered ? { status: 200, body: '{"tokens":42}', headers: { 'content-type': 'application/json', 'Settlement-Overrides': JSON.stringify({ amount: String(USED) }) } } : {}) });
  const pending = edgeFetch(stack, path, paymentHeader(payment));
  while (stack.origin.requestsFor(path) === 0) await sleep(20); // the origin has it: verified and reserved
  fault();
  const response = await pending;
  await response.text();
  stack.facilitator.setFault('none');
  stack.chain.setRpcFault(undefined);
  return response;
}

/** The official upto client's payment (a Permit2 maximum) for the terms the edge offers at `path`. */
async function officialUptoPayment(payer: PrivateKeyAccount, path: string): Promise<PaymentPayload> {
  const offered = await edgeFetch(stack, path);
  expect(offered.status).toBe(402);
  return officialClientFor(payer).createPaymentPayload(decodePaymentRequiredHeader(offered.headers.get('payment-required')!));
}

const eip712Domain = () => ({ ...LOCAL_USDC_EIP712, chainId: stack.chain.chainId, verifyingContract: stack.chain.usdc });

/** The payer cancels its authorization on chain (EIP-3009 cancelAuthorization; someone else pays the gas). */
async function cancelOnChain(payer: PrivateKeyAccount, nonce: Hex): Promise<void> {
  const signature = await payer.signTypedData({
    domain: eip712Domain(),
    types: { CancelAuthorization: [{ name: 'authorizer', type: 'address' }, { name: 'nonce', type: 'bytes32' }] },
    primaryType: 'CancelAuthorization',
    message: { authorizer: payer.address, nonce },
  });
  const wallet = createWalletClient({ account: gas, chain: stack.chain.chain, transport: custom(stack.chain.provider) });
  await wallet.writeContract({ address: stack.chain.usdc, abi: parseAbi(['function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)']), functionName: 'cancelAuthorization', args: [payer.address, nonce, signature] });
}

/** The payer signs another authorization with the same nonce, to someone else, and it is settled first. */
async function spendNonceElsewhere(payer: PrivateKeyAccount, nonce: Hex, to: Hex, value: bigint): Promise<void> {
  const validBefore = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const signature = await payer.signTypedData({
    domain: eip712Domain(),
    types: {
      TransferWithAuthorization: [
        { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization',
    message: { from: payer.address, to, value, validAfter: 0n, validBefore, nonce },
  });
  const wallet = createWalletClient({ account: gas, chain: stack.chain.chain, transport: custom(stack.chain.provider) });
  await wallet.writeContract({ address: stack.chain.usdc, abi: localUsdcAbi, functionName: 'transferWithAuthorization', args: [payer.address, to, value, 0n, validBefore, nonce, signature] });
}

/** A JSON-RPC endpoint of "another chain": answers eth_chainId 8453 (Base), forwards the rest. */
async function otherChainRpc(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const call = JSON.parse(body);
      const answer = call.method === 'eth_chainId'
        ? { jsonrpc: '2.0', id: call.id, result: '0x2105' }
        : await (await fetch(stack.chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  stack = await startLocalStack({
    routes: [...SAMPLE_ROUTES, { pattern: '/metered/**', scheme: 'upto', maxPrice: '$0.005', description: 'Metered' }],
    facilitatorVerifyTimeoutMs: 1000, facilitatorSettleTimeoutMs: 1000, facilitatorSlowMs: 2500, originTimeoutMs: 1500 });
  gas = await stack.chain.newFundedWallet(0n, { ethWei: 10n ** 18n });

  // Charged, content withheld: the facilitator settled, its answers came after the edge gave up.
  expect((await paidRequestWithFaultAtSettle('slow', () => stack.facilitator.setFault('slow'))).status).toBe(503);
  // Charged, content withheld: the transaction was mined, its receipt could not be read.
  expect((await paidRequestWithFaultAtSettle('rpc', () => stack.chain.setRpcFault({ methods: ['eth_getTransactionReceipt'] }))).status).toBe(503);
  // Not charged: the facilitator was down at settle.
  expect((await paidRequestWithFaultAtSettle('down', () => stack.facilitator.setFault('down'))).status).toBe(503);
  // Not charged: the origin timed out, CloudFront never ran origin-response; the row stays reserved.
  expect((await paidRequestWithFaultAtSettle('timeout', () => undefined, 2500)).status).toBe(504);
  // Not charged at settle; then the payer cancels the authorization.
  expect((await paidRequestWithFaultAtSettle('canceled', () => stack.facilitator.setFault('down'))).status).toBe(503);
  await cancelOnChain(cases.canceled.payer, nonceOf(cases.canceled.payment));
  // Not charged at settle; then the payer spends the same nonce on a transfer to someone else.
  expect((await paidRequestWithFaultAtSettle('elsewhere', () => stack.facilitator.setFault('down'))).status).toBe(503);
  await spendNonceElsewhere(cases.elsewhere.payer, nonceOf(cases.elsewhere.payment), privateKeyToAccount(generatePrivateKey()).address, 500n);
  // And one ordinary paid request.
  expect((await paidRequestWithFaultAtSettle('paid', () => undefined)).status).toBe(200);
  // Metered, charged the reported usage, content withheld: the upto proxy settled, the answer came too late.
  expect((await paidRequestWithFaultAtSettle('meteredSlow', () => stack.facilitator.setFault('slow'))).status).toBe(503);
  // Metered, not charged: the facilitator was down at settle.
  expect((await paidRequestWithFaultAtSettle('meteredDown', () => stack.facilitator.setFault('down'))).status).toBe(503);

  for (const name of ['slow', 'rpc', 'down', 'canceled', 'elsewhere', 'meteredSlow', 'meteredDown'] as const) {
    expect(IN_DOUBT_REASONS).toContain((await rowOf(name)).errorReason);
    expect(await rowOf(name)).toMatchObject({ status: 'failed' });
  }
  expect(await rowOf('timeout')).toMatchObject({ status: 'reserved' });
  for (const name of ['slow', 'rpc', 'paid'] as const) expect(await stack.chain.usdcBalance(cases[name].payer.address)).toBe(FUNDS - PRICE);
  for (const name of ['down', 'timeout', 'canceled', 'meteredDown'] as const) expect(await stack.chain.usdcBalance(cases[name].payer.address)).toBe(FUNDS);
  expect(await stack.chain.usdcBalance(cases.meteredSlow.payer.address)).toBe(FUNDS - USED);
  expect(await stack.chain.permit2NonceUsed(cases.meteredSlow.payer.address, BigInt(nonceOf(cases.meteredSlow.payment)))).toBe(true);
  expect(await rowOf('meteredSlow')).toMatchObject({ scheme: 'upto', amount: String(MAXIMUM), maxAmount: String(MAXIMUM) });
}, 90_000);
afterAll(() => stack?.close());

describe('before the authorizations expire', () => {
  it('--dry-run lists what it would change and writes nothing', async () => {
    const before = await snapshot();
    const run = await reconcile(['--dry-run']);
    expect(run.code).toBe(ExitCode.ok);
    expect(await snapshot()).toBe(before);
    expect(run.stdout).toContain('7 row(s) in doubt: 3 settled, 2 pending, 1 canceled, 1 mismatch; dry run, nothing written');
    expect(run.stdout).toMatch(/PAYER\s+NONCE\s+ROUTE\s+AMOUNT\s+WAS\s+NOW\s+TRANSACTION/);
    expect(run.stdout).toMatch(/\/articles\/\*\s+1000\s+failed \(unexpected_settle_error\)\s+would settle\s+0x/);
    expect(run.stdout).toMatch(/left: pending/);
    expect(run.stdout).toMatch(/left: LOOK AT IT/);
    expect(run.stderr).toContain('Dry run: nothing was changed.');
    // The origin-timeout reservation is not in doubt until its authorization has expired.
    expect(run.stdout).not.toContain(nonceOf(cases.timeout.payment).slice(0, 8) + '…');
  });

  it('settles the charged rows with the transaction found on chain, and leaves pending, canceled and mismatched ones as they are', async () => {
    const run = await reconcile(['--json']);
    expect(run.code).toBe(ExitCode.ok);
    const result = run.json();
    expect(result).toMatchObject({ dryRun: false, chain: { chainId: 84532, network: 'eip155:84532', rpc: stack.chain.rpcUrl }, totals: { settled: 3, pending: 2, canceled: 1, mismatch: 1, released: 0, written: 3, changedMeanwhile: 0 } });
    const transfers = await stack.chain.settledTransfers();
    for (const name of ['slow', 'rpc'] as const) {
      const transfer = transfers.find((t) => t.nonce.toLowerCase() === nonceOf(cases[name].payment).toLowerCase())!;
      expect(byNonce(result.rows, name)).toMatchObject({ outcome: 'settled', write: 'applied', txHash: transfer.txHash });
      const row = await rowOf(name);
      expect(row).toMatchObject({ status: 'settled', txHash: transfer.txHash, reconciledAt: expect.any(String) });
      expect(IN_DOUBT_REASONS).toContain(row.errorReason);
    }
    expect(byNonce(result.rows, 'meteredSlow')).toMatchObject({ outcome: 'settled', write: 'applied', amount: String(USED), txHash: expect.stringMatching(/^0x/) });
    expect(byNonce(result.rows, 'down')).toMatchObject({ outcome: 'pending', write: 'none', detail: expect.stringContaining('a transaction may still settle it') });
    expect(byNonce(result.rows, 'canceled')).toMatchObject({ outcome: 'canceled', write: 'none', txHash: expect.stringMatching(/^0x/) });
    expect(byNonce(result.rows, 'elsewhere')).toMatchObject({ outcome: 'mismatch', write: 'none', detail: expect.stringContaining('not 1000 to') });
    for (const name of ['down', 'canceled', 'elsewhere'] as const) {
      const row = await rowOf(name);
      expect(row.status).toBe('failed');
      expect(row.reconciledAt).toBeUndefined();
    }
    // Receipts equal on-chain transfers again: the three flagged payments are settled receipts now.
    expect((await expectReceiptsReconcile(stack)).settled).toBe(4);
  });

  it('settles a metered row at the amount the upto proxy moved (found from its Permit2 nonce), and leaves an unused one pending', async () => {
    const run = await reconcile(['--dry-run', '--json']);
    expect(byNonce(run.json().rows, 'meteredDown')).toMatchObject({ outcome: 'pending', write: 'none', detail: expect.stringContaining('Permit2 nonce not used yet') });
    const settled = await rowOf('meteredSlow');
    const transfer = (await stack.chain.settledTransfers()).find((t) => t.nonce.toLowerCase() === nonceOf(cases.meteredSlow.payment).toLowerCase())!;
    expect(transfer).toMatchObject({ from: cases.meteredSlow.payer.address, to: stack.payTo, value: USED });
    expect(settled).toMatchObject({ status: 'settled', scheme: 'upto', amount: String(USED), maxAmount: String(MAXIMUM), txHash: transfer.txHash, reconciledAt: expect.any(String) });
    expect(await rowOf('meteredDown')).toMatchObject({ status: 'failed', amount: String(MAXIMUM) });
  });

  it('a second run changes nothing', async () => {
    const before = await snapshot();
    const run = await reconcile(['--json']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.json().totals).toMatchObject({ settled: 0, released: 0, written: 0, pending: 2, canceled: 1, mismatch: 1 });
    expect(await snapshot()).toBe(before);
  });
});

describe('after they expire', () => {
  beforeAll(async () => {
    // Chain time passes validBefore (120 s) plus the default grace (5 min).
    await stack.chain.provider.request({ method: 'evm_increaseTime', params: [120 + 300 + 30] });
    await stack.chain.provider.request({ method: 'evm_mine', params: [] });
  });

  it('releases the unused ones, each written once even by two runs at the same time; they were never charged', async () => {
    const runs = await Promise.all([reconcile(['--json']), reconcile(['--json'])]);
    for (const run of runs) expect(run.code).toBe(ExitCode.ok);
    for (const name of ['down', 'timeout', 'meteredDown'] as const) {
      const seen = runs.map((run) => byNonce(run.json().rows, name)).filter((r) => r !== undefined);
      expect(seen.filter((r) => r.write === 'applied')).toHaveLength(1);
      expect(seen.every((r) => r.outcome === 'released' && ['applied', 'changed-meanwhile'].includes(r.write))).toBe(true);
      expect(await rowOf(name)).toMatchObject({ status: 'released', reconciledAt: expect.any(String) });
      expect(await stack.chain.usdcBalance(cases[name].payer.address)).toBe(FUNDS);
      if (name === 'meteredDown') expect(await stack.chain.permit2NonceUsed(cases[name].payer.address, BigInt(nonceOf(cases[name].payment)))).toBe(false);
      else expect(await stack.chain.authorizationUsed(cases[name].payer.address, nonceOf(cases[name].payment))).toBe(false);
    }
    expect(await rowOf('canceled')).toMatchObject({ status: 'failed' });
    expect(await rowOf('elsewhere')).toMatchObject({ status: 'failed' });
    expect(await rowOf('meteredSlow')).toMatchObject({ status: 'settled', amount: String(USED) });
    expect((await expectReceiptsReconcile(stack)).settled).toBe(4);
  });

  it('then has nothing left to write', async () => {
    const before = await snapshot();
    const run = await reconcile([]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('2 row(s) in doubt: 1 canceled, 1 mismatch; 0 written');
    expect(await snapshot()).toBe(before);
  });
});

describe('the conditional writes', () => {
  it('only move a row that is still as it was read: a stale read writes nothing, and settled stays settled', async () => {
    const store = new DynamoReceiptStore(stack.dynamo.client, stack.config.receiptTable.tableName);
    const at = new Date().toISOString();
    const settled = await rowOf('slow');
    expect(await store.reconcile(settled.paymentId, { status: 'failed', updatedAt: settled.updatedAt }, { status: 'released' }, at)).toBe('changed');
    const failed = await rowOf('canceled');
    expect(await store.reconcile(failed.paymentId, { status: 'failed', updatedAt: '2000-01-01T00:00:00.000Z' }, { status: 'released' }, at)).toBe('changed');
    expect(await rowOf('slow')).toEqual(settled);
    expect(await rowOf('canceled')).toEqual(failed);
    // The edge's own transitions still start from reserved only: a reconciled row is never touched by a late edge write.
    await expect(store.markFailed((await rowOf('timeout')).paymentId, 'late', at)).rejects.toThrow(/conditional/i);
  });
});

describe('refusals and errors', () => {
  it('refuses an RPC of another chain than the receipts\' and writes nothing (exit 4)', async () => {
    const other = await otherChainRpc();
    try {
      const before = await snapshot();
      const run = await reconcile(['--json'], other.url);
      expect(run.code).toBe(ExitCode.refused);
      expect(run.stderr).toContain(`serves chain id 8453 (eip155:8453), not eip155:84532 (2 row(s) in doubt): nothing was changed`);
      expect(run.stderr).toContain('Fix: pass --rpc-url of a node of the receipts\' network');
      expect(run.json().error).toMatchObject({ exitCode: ExitCode.refused, chainId: 8453 });
      expect((await reconcile(['--network', 'eip155:84532'], other.url)).code).toBe(ExitCode.refused);
      expect(await snapshot()).toBe(before);
    } finally {
      await new Promise((resolve) => other.server.close(resolve));
    }
  });

  it('says so when the RPC cannot be reached (exit 6)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const run = await reconcile([], url);
    expect(run.code).toBe(ExitCode.rpc);
    expect(run.stderr).toContain(`cdk-x402: cannot reach the chain RPC ${url} (eth_chainId)`);
    expect(run.stderr).toContain('Fix: check --rpc-url');
  });

  it('keeps an API key in the RPC URL out of its messages', async () => {
    const run = await reconcile([], 'http://127.0.0.1:9/v2/secret-api-key');
    expect(run.code).toBe(ExitCode.rpc);
    expect(run.stderr).toContain('http://127.0.0.1:9/…');
    expect(run.stderr).not.toContain('secret-api-key');
  });

  it('needs --rpc-url, and says what is wrong with a bad value (exit 2)', async () => {
    const missing = await cli(['reconcile', '--table', 'x'], { dynamo: stack.dynamo.client });
    expect(missing.code).toBe(ExitCode.usage);
    expect(missing.stderr).toContain("required option '--rpc-url <url>' not specified");
    expect((await reconcile([], 'ftp://example')).stderr).toContain('is not an http(s) URL');
    expect((await reconcile(['--grace', 'soon'])).stderr).toContain('Fix: use a number with a unit');
    expect((await reconcile(['--network', 'base'])).code).toBe(ExitCode.usage);
  });

  it('documents its flags and exit codes in --help', async () => {
    const help = await cli(['reconcile', '--help']);
    expect(help.code).toBe(ExitCode.ok);
    for (const text of ['--rpc-url <url>', '--grace <duration>', '--network <caip2>', '--dry-run', '--json', '--table <name>', 'released (never charged)', 'Exit codes:', '6  reconcile: the chain RPC']) {
      expect(help.stdout).toContain(text);
    }
    expect((await cli(['--help'])).stdout).toMatch(/^  reconcile /m);
  });
});
