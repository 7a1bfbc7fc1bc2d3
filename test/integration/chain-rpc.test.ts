/** The chain port the edge wires for `chainRpc`, against the local chain's JSON-RPC endpoint. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { toHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { LOCAL_CHAIN_ID, LOCAL_USDC_EIP712, startLocalChain, type LocalChain } from '../../local/chain';
import { jsonRpcChain } from '../../lambda/edge/chain-rpc';
import { transferWithAuthorizationCalldata } from '../../lambda/core/transfer-digest';

let chain: LocalChain;
beforeAll(async () => {
  chain = await startLocalChain();
});
afterAll(() => chain?.close());

it('tells an account without code from the token contract', async () => {
  const rpc = jsonRpcChain(chain.rpcUrl);
  expect(await rpc.hasCode(privateKeyToAccount(generatePrivateKey()).address, 2000)).toBe(false);
  expect(await rpc.hasCode(chain.usdc, 2000)).toBe(true);
});

it('fails on an RPC error answer and when nothing listens', async () => {
  chain.setRpcFault({ methods: ['eth_getCode'], times: 1 });
  await expect(jsonRpcChain(chain.rpcUrl).hasCode(chain.usdc, 2000)).rejects.toThrow(/eth_getCode/);
  await expect(jsonRpcChain('http://127.0.0.1:1').hasCode(chain.usdc, 2000)).rejects.toThrow();
});

it('gives up on an RPC that never answers within the timeout', async () => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const started = Date.now();
    await expect(jsonRpcChain(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`).hasCode(chain.usdc, 300)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  } finally {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  }
});

/** The calldata of a real EIP-3009 authorization signed by `payer` for `value`. */
async function transferCall(payer: PrivateKeyAccount, value: bigint, nonce = toHex(crypto.getRandomValues(new Uint8Array(32)))): Promise<string> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const authorization = { from: payer.address, to: privateKeyToAccount(generatePrivateKey()).address, value, validAfter: now - 600n, validBefore: now + 600n, nonce };
  const signature = await payer.signTypedData({
    domain: { ...LOCAL_USDC_EIP712, chainId: LOCAL_CHAIN_ID, verifyingContract: chain.usdc },
    types: {
      TransferWithAuthorization: [
        { name: 'from', type: 'address' },
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' },
        { name: 'validBefore', type: 'uint256' },
        { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization',
    message: authorization,
  });
  return transferWithAuthorizationCalldata(authorization, signature);
}

it('simulates a transfer with eth_call: a funded one returns, an unfunded one reverts with the token\'s reason, nothing is sent', async () => {
  const rpc = jsonRpcChain(chain.rpcUrl);
  const payer = await chain.newFundedWallet(1000n);
  expect(await rpc.call(chain.usdc, await transferCall(payer, 1000n), 2000)).toEqual({ kind: 'returned' });
  expect(await rpc.call(chain.usdc, await transferCall(payer, 1001n), 2000)).toEqual({ kind: 'reverted', message: expect.stringMatching(/exceeds balance/) });
  expect(await chain.usdcBalance(payer.address)).toBe(1000n);
});

it('an RPC error that is not a revert is no verdict', async () => {
  chain.setRpcFault({ methods: ['eth_call'], times: 1 });
  await expect(jsonRpcChain(chain.rpcUrl).call(chain.usdc, '0x', 2000)).rejects.toThrow(/eth_call/);
  await expect(jsonRpcChain('http://127.0.0.1:1').call(chain.usdc, '0x', 2000)).rejects.toThrow();
});

it('reuses its connection, and sends a call again on a fresh one when the server closed the reused one', async () => {
  // Answers the first request of each connection; drops the connection at its second, as a server
  // closing an idle kept-alive connection just as the client reuses it.
  let connections = 0;
  const requestsOn = new WeakMap<object, number>();
  const flaky = http.createServer((req, res) => {
    const seen = (requestsOn.get(req.socket) ?? 0) + 1;
    requestsOn.set(req.socket, seen);
    req.resume();
    req.on('end', () => {
      if (seen === 2) {
        req.socket.destroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x6001' }));
    });
  });
  flaky.on('connection', () => connections++);
  await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
  try {
    const rpc = jsonRpcChain(`http://127.0.0.1:${(flaky.address() as AddressInfo).port}`);
    expect(await rpc.hasCode(chain.usdc, 2000)).toBe(true);
    expect(connections).toBe(1);
    expect(await rpc.hasCode(chain.usdc, 2000)).toBe(true);
    expect(connections).toBe(2);
  } finally {
    flaky.closeAllConnections();
    await new Promise((resolve) => flaky.close(resolve));
  }
});
