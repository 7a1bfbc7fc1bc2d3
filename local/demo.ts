/**
 * `npm run demo`: the edge engine end to end on this machine. An agent using the official x402
 * client meets a 402, pays in USDC on a local Base-Sepolia-like chain, and gets the content; the
 * settlement is on chain and in the receipt table. Exits 0 only if every step checked out.
 */
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { wrapFetchWithPayment } from '@x402/fetch';
import { officialClientFor, recordingFetch } from './agent';
import { edgeBundle } from './bundle-edge';
import { startLocalStack } from './stack';
import { formatAtomicUnits } from '../lambda/core/price';

const started = Date.now();
const step = (title: string) => console.log(`\n━━ ${title}`);
const show = (label: string, value: unknown) => console.log(`   ${label.padEnd(22)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
const usdc = (atomic: bigint) => `${formatAtomicUnits(atomic.toString(), 6)} USDC`;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`demo check failed: ${what}`);
  console.log(`   ✓ ${what}`);
}

async function main(): Promise<void> {
  step('Starting the local edge (everything on 127.0.0.1)');
  const stack = await startLocalStack();
  try {
    show('chain', `${stack.chain.rpcUrl}  (chain id ${stack.chain.chainId}, USDC at ${stack.chain.usdc})`);
    show('facilitator', `${stack.facilitator.url}  (official @x402/core + @x402/evm)`);
    show('receipts (dynalite)', stack.dynamo.endpoint);
    show('origin', stack.origin.url);
    show('edge (CloudFront)', stack.edge.url);
    show('WAF', 'EMULATION: non-browser and AI-bot user agents are payment-eligible');
    show('publisher wallet', stack.payTo);
    show('viewer-request λ', `${(edgeBundle('viewer-request', stack.config).zippedBytes / 1024).toFixed(1)} KB zipped (limit 1024 KB)`);

    const agent = await stack.chain.newFundedWallet(1_000_000n);
    const payerBefore = await stack.chain.usdcBalance(agent.address);
    const publisherBefore = await stack.chain.usdcBalance(stack.payTo);
    show('agent wallet', `${agent.address} holding ${usdc(payerBefore)}`);

    const url = `${stack.edge.url}/articles/hello-agents`;
    step(`Agent asks for ${url} without paying`);
    const challenge = await fetch(url);
    const terms = decodePaymentRequiredHeader(challenge.headers.get('payment-required') ?? '');
    show('status', `${challenge.status} ${challenge.statusText}`);
    show('says', (await challenge.json()).message);
    show('PAYMENT-REQUIRED', terms.accepts[0]);
    check(challenge.status === 402 && stack.origin.requests === 0, 'the edge asked for payment and the origin was not reached');

    step('Agent pays with the official x402 client (@x402/fetch) and retries');
    const recorder = recordingFetch();
    const pay = wrapFetchWithPayment(recorder.fetch, officialClientFor(agent));
    const paid = await pay(url);
    const settlement = decodePaymentResponseHeader(paid.headers.get('payment-response') ?? '');
    show('status', `${paid.status} ${paid.statusText}`);
    show('content', (await paid.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 70));
    show('PAYMENT-RESPONSE', settlement);
    check(paid.status === 200 && settlement.success, 'content released with a successful settlement');

    step('On chain and in the receipt table');
    const tx = await stack.chain.publicClient.getTransactionReceipt({ hash: settlement.transaction as `0x${string}` });
    show('transaction', `${settlement.transaction} (block ${tx.blockNumber}, ${tx.status}, ${tx.gasUsed} gas)`);
    const [receipt] = await stack.receipts();
    show('receipt row', receipt);
    const payerAfter = await stack.chain.usdcBalance(agent.address);
    const publisherAfter = await stack.chain.usdcBalance(stack.payTo);
    show('agent balance', `${usdc(payerBefore)} → ${usdc(payerAfter)}`);
    show('publisher balance', `${usdc(publisherBefore)} → ${usdc(publisherAfter)}`);
    check(tx.status === 'success', 'the transferWithAuthorization transaction succeeded');
    check(receipt?.status === 'settled' && receipt.txHash === settlement.transaction, 'the receipt is settled with the same transaction');
    check(payerBefore - payerAfter === 1000n && publisherAfter - publisherBefore === 1000n, 'exactly 0.001 USDC moved from agent to publisher');

    step('Presenting the same payment again (as an agent whose response was lost would)');
    const again = () => fetch(url, { headers: { 'payment-signature': recorder.lastPaymentHeader() ?? '' } });
    const redelivered = await again();
    await redelivered.arrayBuffer();
    show('status', `${redelivered.status} ${redelivered.statusText}`);
    check(redelivered.status === 200 && (await stack.chain.usdcBalance(agent.address)) === payerAfter, 'delivered once more, without a second charge');
    const replay = await again();
    show('status', `${replay.status} ${(await replay.json()).error}`);
    check(replay.status === 402, 'then refused: a payment is charged once and redelivered at most once');
  } finally {
    await stack.close();
  }
  console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`\n✗ ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
