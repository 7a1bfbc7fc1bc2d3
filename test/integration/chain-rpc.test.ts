/** The chain port the edge wires for `chainRpc`, against the local chain's JSON-RPC endpoint. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalChain, type LocalChain } from '../../local/chain';
import { jsonRpcChain } from '../../lambda/edge/chain-rpc';

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
