/** The shape of bench/results/latest.json and its markdown rendering. */
import type { ColdStartResult } from './cold-start';
import type { LoadResult } from './load-worker';
import type { SignatureCost } from './signature-cost';

export type SideName = 'ours' | 'peerOrigin' | 'peerMemory';
type PhaseName = 'free' | 'challenge' | 'badPayment' | 'paid' | 'paidSequential';

export interface EdgeAdded {
  readonly requests: number;
  /** Handler time minus facilitator and DynamoDB time, per paid request. */
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly handlerMedianMs: number;
  readonly facilitatorMedianMs: number;
  readonly storeMedianMs: number;
  readonly multipleOfSignature: number;
}

export interface BenchReport {
  generatedAt: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  settings: Record<string, number>;
  phases: Record<PhaseName, Partial<Record<SideName, LoadResult>>>;
  coldStart: Record<'oursBundled' | 'oursUnbundled' | 'peerBundled' | 'peerUnbundled', ColdStartResult>;
  signature: SignatureCost;
  edgeAdded: { sequential: EdgeAdded; loaded: EdgeAdded };
  /** On-chain transfers to each side's payTo over the whole run (warm-ups included). */
  settlements: { ours: number; oursReceipts: number; peer: number };
  wallSeconds: number;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (ours: number, theirs: number) => (theirs > 0 && Number.isFinite(ours / theirs) ? `${(ours / theirs).toFixed(2)}×` : 'n/a');

export function renderMarkdown(r: BenchReport): string {
  const rows: string[] = [];
  const row = (label: string, ours: number, origin: number, memory: number, format: (v: number) => string) =>
    rows.push(`| ${label} | ${format(ours)} | ${format(origin)} | ${ratio(ours, origin)} | ${format(memory)} | ${ratio(ours, memory)} |`);
  const titles: Record<PhaseName, string> = {
    free: 'free pass-through',
    challenge: '402 challenge',
    badPayment: 'bad payment rejected (bad signature)',
    paid: `valid paid request, end to end (c=${r.settings.connections})`,
    paidSequential: 'valid paid request, end to end (c=1)',
  };
  for (const phase of Object.keys(titles) as PhaseName[]) {
    const p = r.phases[phase];
    const [o, a, b] = [p.ours!, p.peerOrigin!, p.peerMemory!];
    row(`${titles[phase]}: req/s`, o.rps, a.rps, b.rps, (v) => v.toFixed(0));
    row(`${titles[phase]}: p50 ms`, o.p50, a.p50, b.p50, ms);
    row(`${titles[phase]}: p99 ms`, o.p99, a.p99, b.p99, ms);
  }
  const c = r.coldStart;
  const kb = (v: number) => `${(v / 1024).toFixed(1)} KB`;
  row('handler bundle, zipped (same esbuild settings)', c.oursBundled.zippedBytes, c.peerBundled.zippedBytes, c.peerBundled.zippedBytes, kb);
  row('cold-start module init, bundled: ms (median)', c.oursBundled.initMs.median, c.peerBundled.initMs.median, c.peerBundled.initMs.median, ms);
  row('cold-start module init, from node_modules: ms (median)', c.oursUnbundled.initMs.median, c.peerUnbundled.initMs.median, c.peerUnbundled.initMs.median, ms);

  const s = r.signature;
  const seq = r.edgeAdded.sequential;
  const loaded = r.edgeAdded.loaded;
  return `# cdk-x402 benchmark: our edge vs the official @x402/express middleware

Generated ${r.generatedAt} by \`npm run bench\` in ${r.wallSeconds.toFixed(0)} s.
Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.platform}.

| line | ours: local edge (CloudFront emulation + our λ@Edge handlers + origin hop) | @x402/express + origin hop | ratio ours/theirs | @x402/express, content in-process | ratio ours/theirs |
|---|---|---|---|---|---|
${rows.join('\n')}

For req/s a ratio above 1 favours ours; for latency, size and init time a ratio below 1 does.

**Floor of a local check.** One EIP-712 TransferWithAuthorization signature verification with viem
(\`verifyTypedData\`, ${s.runs} runs after ${s.warmup} warm-up): median **${ms(s.medianMs)} ms**, p99 ${ms(s.p99Ms)} ms.

**Edge-added time of a paid request** (time inside our viewer-request + origin-response handlers
minus the time during which a facilitator or DynamoDB call was in flight (their union: verify and
the reservation overlap); it includes our own local signature
check, decoding, receipts and headers):
- sequential (c=1, ${seq.requests} requests): median **${ms(seq.medianMs)} ms = ${seq.multipleOfSignature.toFixed(2)}× one signature verification**, p99 ${ms(seq.p99Ms)} ms
  (handlers ${ms(seq.handlerMedianMs)} ms, of which facilitator ${ms(seq.facilitatorMedianMs)} ms and DynamoDB ${ms(seq.storeMedianMs)} ms, medians);
- under load (c=${r.settings.connections}, ${loaded.requests} requests): median ${ms(loaded.medianMs)} ms = ${loaded.multipleOfSignature.toFixed(2)}×, p99 ${ms(loaded.p99Ms)} ms
  (includes event-loop queueing behind other requests in the same process).

Settlements on chain during the run (warm-ups included): ours ${r.settlements.ours} (settled receipts: ${r.settlements.oursReceipts}), @x402/express ${r.settlements.peer}.

## Method
- **Same everything but the middleware.** One process hosts the local chain (Hardhat, chain id 84532,
  USDC at Base Sepolia's address), the official x402 facilitator (@x402/core + @x402/evm, HTTP on
  127.0.0.1), the sample origin and the servers under test; dynalite (our receipt table) runs in a
  process of its own, as DynamoDB is a remote service for Lambda@Edge. Both sides price
  \`/articles/*\` at the same amount of the same asset with the same \`maxTimeoutSeconds\` (the run
  checks that their 402 terms are identical except \`payTo\`) and call the same facilitator.
  Payments are made by the same official client (\`x402Client\` + \`ExactEvmScheme\`), pre-signed
  from ${r.settings.payerWallets} funded wallets right before each paid phase, one fresh authorization per request.
- **Same load generator, one thing at a time.** autocannon (programmatic API) runs in a separate
  process; phases run sequentially, and within a phase one side at a time after a warm-up
  (${r.settings.warmupSeconds} s, or ${r.settings.paidWarmup} paid requests). Free, 402 and bad-payment phases run ${r.settings.phaseSeconds} s at
  ${r.settings.connections} connections; paid phases send ${r.settings.paidRequests} requests at ${r.settings.connections} connections and ${r.settings.paidSequentialRequests} at 1.
  autocannon sends each paid request with the next pre-signed header (\`setupRequest\`), so no
  header is reused. Latencies are per response in floating-point ms; req/s = responses / wall time.
  The run fails unless every response had the expected status (200 / 402 / 402 / 200) and every
  paid 200 is exactly one on-chain transfer.
- **What differs, honestly.** Our edge is measured through the local CloudFront emulation (WAF
  rules, event JSON round trips, response validation) and always makes an HTTP hop to the origin
  (no keep-alive, as configured in the emulation); the express middleware serves from the process it
  protects. The "origin hop" column puts @x402/express in front of the same origin with the same
  kind of hop (a proxy handler, no keep-alive); the "in-process" column serves the same bytes from
  memory, the middleware's usual deployment. On real CloudFront the viewer-request runs in Lambda@Edge
  at the POP, so absolute numbers here are loopback numbers: compare ratios, not milliseconds.
  Our paid path also makes two DynamoDB calls (reserve, then record the settlement) that the
  peer, which keeps no receipts and has no replay lock of its own, does not make.
- **Noise.** Two cores run the load generator, the servers, dynalite and the chain. Between runs on
  this machine, paid-phase throughput and p99s moved by up to about 30%; the 402, bad-payment,
  size and init lines were stable within about 10%.
- **Bad payments.** A real payment whose nonce was changed after signing. Ours rejects it with a
  local EIP-712 check before any network call; @x402/express asks the facilitator's /verify.
- **Bundles and cold start.** Each side's request handler built with the deployed edge bundles'
  esbuild settings (minified, node22, cjs; the AWS SDK external because the Lambda runtime provides
  it); size = the code deflated as a zip entry. Init time = \`require\` of that file in a fresh
  \`node\` process (median of ${r.settings.coldStartRuns}), bundled and with packages loaded from node_modules;
  no network at init on either side (the peer's facilitator sync is off).
`;
}
