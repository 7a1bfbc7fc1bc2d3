/**
 * The batch-settlement agents in a process of their own, as autocannon is (bench/load-worker.ts):
 * their signing and HTTP work does not share an event loop with the servers they measure. Each
 * agent is the official client (`@x402/fetch`'s wrapFetchWithPayment with @x402/evm's
 * batch-settlement client scheme) on a new channel (a fresh salt), paying its requests one after
 * another; every request that carries a payment is timed until its whole body arrived.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { x402Client } from '@x402/core/client';
import type { Network, PaymentPayload } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme } from '@x402/evm/batch-settlement/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import { createPublicClient, http, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { PaidExchange } from './batch-agents';

export interface BatchAgentsJob {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly network: Network;
  /** The chain the clients read a channel's state from when they recover it. */
  readonly rpcUrl: string;
  /** One agent per entry: its wallet's key and how many requests it pays. */
  readonly agents: ReadonlyArray<{ readonly privateKey: Hex; readonly requests: number }>;
}

async function run(job: BatchAgentsJob): Promise<PaidExchange[]> {
  const publicClient = createPublicClient({ transport: http(job.rpcUrl, { retryCount: 0 }) }) as PublicClient;
  const exchanges: PaidExchange[] = [];
  await Promise.all(
    job.agents.map(async ({ privateKey, requests }) => {
      const agent = officialBatchAgent(job.network, privateKey, publicClient, exchanges);
      for (let n = 0; n < requests; n++) {
        const sentMs = performance.now();
        const paymentsBefore = agent.paymentsSent();
        try {
          const response = await agent.pay(job.url, { headers: job.headers });
          // A call that ended before sending a payment (its unpaid first request was not answered 402) counts with the status it got.
          if (agent.paymentsSent() === paymentsBefore) exchanges.push({ sentMs, receivedMs: performance.now(), status: response.status });
        } catch {
          exchanges.push({ sentMs, receivedMs: performance.now() });
        }
      }
    }),
  );
  return exchanges;
}

/** One agent: the official batch-settlement client on a new channel, timing each request that carries its payment. */
function officialBatchAgent(network: Network, privateKey: Hex, publicClient: PublicClient, exchanges: PaidExchange[]): { pay: ReturnType<typeof wrapFetchWithPayment>; paymentsSent(): number } {
  let paymentsSent = 0;
  const salt = `0x${randomBytes(32).toString('hex')}` as Hex;
  const client = new x402Client().register(network, new BatchSettlementClientScheme(toClientEvmSigner(privateKeyToAccount(privateKey), publicClient), { salt }));
  const timed: typeof fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const header = request.headers.get('payment-signature');
    const sentMs = performance.now();
    const response = await fetch(request);
    const body = await response.arrayBuffer();
    if (header) {
      paymentsSent++;
      const payment = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PaymentPayload;
      const deposit = (payment.payload as { type?: string }).type === 'deposit';
      exchanges.push({ sentMs, receivedMs: performance.now(), status: response.status, amountAtomic: BigInt(payment.accepted.amount), ...(deposit ? { deposit } : {}) });
    }
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { pay: wrapFetchWithPayment(timed, client), paymentsSent: () => paymentsSent };
}

if (require.main === module) {
  process.once('message', (job: BatchAgentsJob) => {
    run(job).then(
      (exchanges) => process.send!({ exchanges }),
      (error: unknown) => process.send!({ error: String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
