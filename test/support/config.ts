import type { EdgeConfig } from '../../lambda/core/config';
import { DEFAULT_ELIGIBILITY_HEADER } from '../../lambda/core/config';
import { knownNetwork } from '../../lambda/core/networks';

const baseSepolia = knownNetwork('eip155:84532')!;

/** A Base Sepolia configuration like the one a publisher deploys to testnet. */
export function testEdgeConfig(overrides: Partial<EdgeConfig> = {}): EdgeConfig {
  return {
    network: baseSepolia.caip2,
    payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
    asset: { ...baseSepolia.usdc, symbol: 'USDC' },
    facilitator: { url: 'http://127.0.0.1:1', verifyTimeoutMs: 3000, settleTimeoutMs: 10000 },
    routes: [
      { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
      { pattern: 'GET /api/premium-report', price: '$0.01', description: 'Premium report', mimeType: 'application/json' },
      { pattern: '/api/**', price: '5000' },
    ],
    eligibilityHeader: DEFAULT_ELIGIBILITY_HEADER,
    receiptTable: { tableName: 'x402-receipts', region: 'us-east-1' },
    maxTimeoutSeconds: 120,
    ...overrides,
  };
}
