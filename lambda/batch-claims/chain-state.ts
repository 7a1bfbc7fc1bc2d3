import { createPublicClient, http, parseAbi, type Hex } from 'viem';
import { BATCH_SETTLEMENT_CONTRACT } from '../core/batch/voucher';
import type { ChannelChainState } from '../edge/dynamo-channel-store';

const abi = parseAbi([
  'function channels(bytes32 channelId) view returns (uint128 balance, uint128 totalClaimed)',
  'function pendingWithdrawals(bytes32 channelId) view returns (uint128 amount, uint40 initiatedAt)',
  'function refundNonce(bytes32 channelId) view returns (uint256)',
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
