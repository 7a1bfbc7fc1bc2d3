import type { ChainPort, ContractCall } from '../core/ports';
import { keptAliveHttp, NoAnswerByDeadline } from './kept-alive-http';

/** JSON-RPC error code of an execution revert (EIP-1474 as geth, anvil and Hardhat answer eth_call). */
const EXECUTION_REVERTED = 3;

/** A JSON-RPC answer, as far as the port reads it. */
interface RpcAnswer {
  readonly result?: unknown;
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
}

/**
 * The chain port over plain JSON-RPC: one POST per call on a kept-alive connection
 * (lambda/edge/kept-alive-http.ts), bounded by its deadline, reading the body included. Anything
 * but the expected answer is an error, which the paywall treats as "don't know".
 */
export function jsonRpcChain(url: string): ChainPort {
  const target = new URL(url);
  const send = keptAliveHttp();

  async function request(method: string, params: unknown[], timeoutMs: number): Promise<RpcAnswer> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
    // These calls only read: a kept-alive connection the server closed as it was reused is retried.
    const answer = await send(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body, deadline: Date.now() + timeoutMs, resendOnStaleConnection: true }).catch(
      (error: unknown) => {
        throw error instanceof NoAnswerByDeadline ? new Error(`${method}: no answer by the deadline`) : error;
      },
    );
    if (answer.status < 200 || answer.status > 299) throw new Error(`${method}: HTTP ${answer.status}`);
    try {
      return JSON.parse(answer.body) as RpcAnswer;
    } catch (error) {
      throw new Error(`${method}: the answer is not JSON (${String(error)})`);
    }
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
