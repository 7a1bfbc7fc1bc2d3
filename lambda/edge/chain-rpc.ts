import type { ChainPort } from '../core/ports';

/**
 * The chain port over plain JSON-RPC (`fetch`, whose keep-alive connections the facilitator calls
 * share): one `eth_getCode` per lookup, bounded by its deadline. Anything but a hex answer is an
 * error, which the paywall treats as "don't know".
 */
export function jsonRpcChain(url: string): ChainPort {
  return {
    async hasCode(address, timeoutMs) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getCode', params: [address, 'latest'] }),
        // Covers reading the body too.
        signal: AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs))),
      });
      if (!response.ok) throw new Error(`eth_getCode: HTTP ${response.status}`);
      const answer = (await response.json()) as { result?: unknown; error?: { message?: unknown } };
      if (typeof answer.result !== 'string' || !/^0x(?:[0-9a-fA-F]{2})*$/.test(answer.result)) {
        throw new Error(`eth_getCode: ${answer.error ? `error ${String(answer.error.message)}` : 'no hex result'}`);
      }
      return answer.result !== '0x';
    },
  };
}
