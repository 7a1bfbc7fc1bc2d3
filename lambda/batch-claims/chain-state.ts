import { createPublicClient, http, parseAbi, type Hex } from 'viem';
import { BATCH_SETTLEMENT_CONTRACT } from '../core/batch/voucher';
import type { ChannelChainState } from '../edge/dynamo-channel-store';

const abi = parseAbi([
  'function channels(bytes32 channelId) view returns (uint128 balance, uint128 totalClaimed)',
  'function pendingWithdrawals(bytes32 channelId) view returns (uint128 amount, uint40 initiatedAt)',
  'function refundNonce(bytes32 channelId) view returns (uint256)',
  'function receivers(address receiver, address token) view returns (uint128 totalClaimed, uint128 totalSettled)',
]);

/** Reads a channel's state from the batch-settlement contract (three `eth_call`s, each bounded by `timeoutMs`). */
export function channelChainReader(rpcUrl: string, timeoutMs: number): (channelId: Hex) => Promise<ChannelChainState> {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  return async (channelId) => {
    const at = { address: BATCH_SETTLEMENT_CONTRACT, abi, args: [channelId] } as const;
    const [[balance, totalClaimed], [, initiatedAt], refundNonce] = await Promise.all([
      client.readContract({ ...at, functionName: 'channels' }),
      client.readContract({ ...at, functionName: 'pendingWithdrawals' }),
      client.readContract({ ...at, functionName: 'refundNonce' }),
    ]);
    return { balance, totalClaimed, withdrawRequestedAt: Number(initiatedAt), refundNonce };
  };
}

/** What the contract holds for a receiver and token: claimed from all its channels, and swept to it. */
export interface ReceiverChainState {
  readonly totalClaimed: bigint;
  readonly totalSettled: bigint;
}

/** Reads `receivers(receiver, token)` from the batch-settlement contract (one `eth_call`, bounded by `timeoutMs`). */
export function receiverChainReader(rpcUrl: string, timeoutMs: number): (receiver: Hex, token: Hex) => Promise<ReceiverChainState> {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  return async (receiver, token) => {
    const [totalClaimed, totalSettled] = await client.readContract({ address: BATCH_SETTLEMENT_CONTRACT, abi, functionName: 'receivers', args: [receiver, token] });
    return { totalClaimed, totalSettled };
  };
}
