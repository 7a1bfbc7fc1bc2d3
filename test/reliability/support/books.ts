import type { Address } from 'viem';
import type { LocalStack } from '../../../local/stack';

/** Everything the money invariants look at, before and after a hostile case. */
export async function moneyBooks(stack: LocalStack, payer: Address) {
  return {
    payer: await stack.chain.usdcBalance(payer),
    publisher: await stack.chain.usdcBalance(stack.payTo),
    settled: (await stack.receipts()).filter((r) => r.status === 'settled').length,
    transfers: (await stack.chain.settledTransfers()).length,
  };
}
