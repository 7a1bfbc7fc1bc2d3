import type { ChainPort, ContractCall } from '../core/ports';

/** JSON-RPC error code of an execution revert (EIP-1474 as geth, anvil and Hardhat answer eth_call). */
const EXECUTION_REVERTED = 3;

/**
 * The chain port over plain JSON-RPC (`fetch`, whose keep-alive connections the facilitator calls
 * share): one request per call, bounded by its deadline. Anything but the expected answer is an
 * error, which the paywall treats as "don't know".
 */
export function jsonRpcChain(url: string): ChainPort {
  async function request(method: string, params: unknown[], timeoutMs: number): Promise<{ result?: unknown; error?: { code?: unknown; message?: unknown } }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      // Covers reading the body too.
      signal: AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs))),
    });
    if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
    return (await response.json()) as { result?: unknown; error?: { code?: unknown; message?: unknown } };
  }
  const isHexData = (value: unknown): value is string => typeof value === 'string' && /^0x(?:[0-9a-fA-F]{2})*$/.test(value);

  return {
    async hasCode(address, timeoutMs) {
      const answer = await request('eth_getCode', [address, 'latest'], timeoutMs);
      if (!isHexData(answer.result)) {
        throw new Error(`eth_getCode: ${answer.error ? `error ${String(answer.error.message)}` : 'no hex result'}`);
      }
      return answer.result !== '0x';
    },
    async call(to, data, timeoutMs): Promise<ContractCall> {
      const answer = await request('eth_call', [{ to, data }, 'latest'], timeoutMs);
      if (isHexData(answer.result)) return { kind: 'returned' };
      const message = typeof answer.error?.message === 'string' ? answer.error.message : '';
      // Only a revert is a verdict on the call; any other error says nothing about it.
      if (answer.error?.code === EXECUTION_REVERTED || /revert/i.test(message)) return { kind: 'reverted', message };
      throw new Error(`eth_call: ${answer.error ? `error ${message}` : 'no hex result'}`);
    },
  };
}
