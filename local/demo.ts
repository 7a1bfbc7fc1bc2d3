/**
 * `npm run demo`: the edge engine end to end on this machine. An agent using the official x402
 * client meets a 402, pays in USDC on a local Base-Sepolia-like chain, and gets the content; the
 * settlement is on chain and in the receipt table. Exits 0 only if every step checked out.
 */
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recordingFetch } from './agent';
import { edgeBundle } from './bundle-edge';
import { startLocalStack } from './stack';
import { offeredPasses, perRequestPrice, planReads } from '../cli/pass-plan';
import { payingFetch, SpendingLedger, usdc, utcDay, type SpendingPolicy } from '../cli/paying-fetch';
import { LOCAL_NETWORK } from './chain';

const started = Date.now();
/** The pass the demo sells, and how many articles the agent reads with it. */
const DAY_PASS = { name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'], description: 'Every article for a day' };
const READS_WITH_PASS = 20;
/** The reads the agent plans for the day, which decide whether the pass is worth buying. */
const PLANNED_READS = 500;
const step = (title: string) => console.log(`\n━━ ${title}`);
const show = (label: string, value: unknown) => console.log(`   ${label.padEnd(22)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`demo check failed: ${what}`);
  console.log(`   ✓ ${what}`);
}

async function main(): Promise<void> {
  step('Starting the local edge (everything on 127.0.0.1)');
  const stack = await startLocalStack({ passes: [DAY_PASS] });
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
    // Setup for metered (upto) routes: the agent's one-time ERC-20 approval of Permit2.
    const approval = await stack.chain.approvePermit2(agent);
    show('Permit2 approval', `${approval} (once; the local chain lends the gas)`);
    check((await stack.chain.permit2Allowance(agent.address)) > 0n, 'the agent approved Permit2 once, so it can also pay metered (upto) routes');

    const url = `${stack.edge.url}/articles/hello-agents`;
    step(`Agent asks for ${url} without paying`);
    const challenge = await fetch(url);
    const terms = decodePaymentRequiredHeader(challenge.headers.get('payment-required') ?? '');
    show('status', `${challenge.status} ${challenge.statusText}`);
    show('says', (await challenge.json()).message);
    show('PAYMENT-REQUIRED', terms.accepts[0]);
    check(challenge.status === 402 && stack.origin.requests === 0, 'the edge asked for payment and the origin was not reached');

    step('Agent pays with the official x402 client (@x402/fetch) under its spending policy, and retries');
    // What `cdk-x402 pay` enforces: the pass's price is the most it pays at once, 0.10 USDC a day in all.
    const policy: SpendingPolicy = {
      maxPerRequest: 50_000n,
      dailyBudget: 100_000n,
      ledger: new SpendingLedger(path.join(mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-demo-')), 'spending.json')),
      networks: [LOCAL_NETWORK],
      assets: [stack.chain.usdc],
    };
    show('spending policy', `at most ${usdc(policy.maxPerRequest)} a request, ${usdc(policy.dailyBudget!)} a day, USDC on ${LOCAL_NETWORK}`);
    const recorder = recordingFetch();
    const pay = payingFetch(recorder.fetch, agent, policy);
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

    step(`Agent plans ${PLANNED_READS} reads today: a pass, or pay per request? (what cdk-x402 agent plan prints)`);
    const plan = planReads({ reads: PLANNED_READS, periodSeconds: 86_400 }, perRequestPrice(terms.accepts), offeredPasses(terms.extensions));
    for (const option of plan.options) show(option.way === 'pass' ? `pass "${option.pass}"` : 'per request', `${usdc(BigInt(option.total))} in ${option.payments} payment(s)`);
    check(plan.best.way === 'pass' && plan.best.pass === DAY_PASS.name, `the ${DAY_PASS.duration} pass is the cheaper way`);

    const passUrl = `${stack.edge.url}/.well-known/x402/pass/${DAY_PASS.name}`;
    step(`Agent buys a ${DAY_PASS.duration} pass (${DAY_PASS.price}) at ${passUrl}, with the same official client`);
    show('offered in the 402', (terms.extensions?.['x402-pass'] as { passes: unknown[] } | undefined)?.passes?.[0]);
    const transfersBefore = (await stack.chain.settledTransfers()).length;
    const bought = await pay(passUrl);
    const sale = await bought.json();
    show('status', `${bought.status} ${bought.statusText}`);
    show('pass', `${sale.pass.slice(0, 48)}… (${sale.pass.length} characters, ES256)`);
    show('valid', `${sale.notBefore} → ${sale.expiresAt} for ${sale.scope.join(', ')}`);
    const transfersAfterSale = (await stack.chain.settledTransfers()).length;
    check(bought.status === 200 && transfersAfterSale === transfersBefore + 1, 'the pass was paid with one on-chain transfer and answered by the edge');
    const spentToday = policy.ledger!.spentOn(utcDay(Date.now()));
    show('spent today', `${usdc(spentToday)} of ${usdc(policy.dailyBudget!)} (the policy's ledger)`);
    check(spentToday === 1000n + 50_000n, 'the spending policy counted the article and the pass');

    step(`Agent reads ${READS_WITH_PASS} articles with "Authorization: Bearer <pass>"`);
    const facilitatorCalls = () => stack.facilitator.calls.verify + stack.facilitator.calls.settle;
    const callsBefore = facilitatorCalls();
    const balanceBefore = await stack.chain.usdcBalance(agent.address);
    const readStarted = Date.now();
    let served = 0;
    for (let i = 0; i < READS_WITH_PASS; i++) {
      const read = await fetch(`${stack.edge.url}/articles/with-a-pass-${i}`, { headers: { authorization: `Bearer ${sale.pass}` } });
      await read.arrayBuffer();
      if (read.status === 200) served++;
    }
    const transfersNow = (await stack.chain.settledTransfers()).length;
    show('served', `${served}/${READS_WITH_PASS} in ${Date.now() - readStarted} ms`);
    show('on-chain transfers', `${transfersNow - transfersAfterSale} more (counted from the chain's AuthorizationUsed events)`);
    show('facilitator calls', `${facilitatorCalls() - callsBefore} more`);
    check(served === READS_WITH_PASS && transfersNow === transfersAfterSale && facilitatorCalls() === callsBefore, `${READS_WITH_PASS} articles, 0 further on-chain transactions, 0 facilitator calls`);
    check((await stack.chain.usdcBalance(agent.address)) === balanceBefore, 'and the agent\'s balance did not move');
    const passReceipt = (await stack.receipts()).find((r) => r.kind === 'pass');
    show('pass receipt', passReceipt);
    check(passReceipt?.status === 'settled' && passReceipt.passId === sale.passId, 'the pass purchase is a settled receipt (kind pass)');
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
