/** cdk-x402: constructs that let a CloudFront site charge AI agents per request with x402. */
export * from './pricing';
export * from './x402-paywall';
export * from './payment-eligible-bots';
export * from './edge-verifier';
export * from './paywalled-behavior';
export * from './receipt-table';
export * from './payments-dashboard';
export * from './settlement-ingest';
export * from './deployment-outputs';
export * from './origin-protection';
export * from './reference-stack';
