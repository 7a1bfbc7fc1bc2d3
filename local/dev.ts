/**
 * `npm run dev`: the local edge stays up so a person, curl or another x402 client can use it.
 * Ports: EDGE_PORT (default 4020), RPC_PORT (8545), FACILITATOR_PORT (4021); 0 picks free ones.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { formatAtomicUnits } from '../lambda/core/price';
import { startLocalStack } from './stack';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const stack = await startLocalStack({
    ports: { edge: port('EDGE_PORT', 4020), rpc: port('RPC_PORT', 8545), facilitator: port('FACILITATOR_PORT', 4021) },
    log: (line) => {
      if (typeof line.event === 'string') console.log(`[edge] ${JSON.stringify(line)}`);
    },
  });
  // A throwaway key of this local chain only, printed so other clients can pay with it.
  const walletKey = generatePrivateKey();
  const wallet = privateKeyToAccount(walletKey);
  await stack.chain.mint(wallet.address, 10_000_000n);
  const balance = formatAtomicUnits((await stack.chain.usdcBalance(wallet.address)).toString(), 6);
  console.log(`
cdk-x402 local edge is up (all on 127.0.0.1; WAF is an EMULATION: non-browser user agents must pay)

  edge (CloudFront)  ${stack.edge.url}
    free             ${stack.edge.url}/
    $0.001           ${stack.edge.url}/articles/<slug>
    $0.01            ${stack.edge.url}/api/premium-report
  origin             ${stack.origin.url}
  facilitator        ${stack.facilitator.url}   (GET /supported)
  chain RPC          ${stack.chain.rpcUrl}   (chain id ${stack.chain.chainId}, USDC ${stack.chain.usdc})
  publisher (payTo)  ${stack.payTo}
  test wallet        ${wallet.address} with ${balance} USDC
  its private key    ${walletKey}

Try:
  curl -i ${stack.edge.url}/articles/hello            # 402 with PAYMENT-REQUIRED
  curl -i -A 'Mozilla/5.0' ${stack.edge.url}/articles/hello   # a browser reads free
Ctrl-C stops everything.`);

  const stop = async () => {
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
