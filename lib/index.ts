/**
 * cdk-x402: constructs that let a CloudFront site charge AI agents per request with x402.
 * The public API, jsii-shaped (enums, structs, classes); the helpers the CLI, the local edge and
 * the tests use stay in their modules.
 */
export type { PriceBounds, PriceCondition, PricedRoute, PriceRule, RouteDiscovery, RouteDiscoveryOutput } from '../lambda/core/config';
export { BotControlInspectionLevel, CurrencyMode, Engine, OriginProtection, PaidCaching, PaymentVerifier, SettledReceipt, UnknownAgents } from './config/settings';
export type { AssetSettings, PassKey, PassOffer, PassPublicKeyJwk, ReferenceStackSettings, TrustedAgent, X402Settings } from './config/settings';
export { X402Config } from './config/x402-config';
export { X402Paywall, type X402PaywallProps } from './x402-paywall';
export { PaymentEligibleBots, PaymentEligibleBotsRuleGroup, type PaymentEligibleBotsProps, type PaymentEligibleBotsRuleGroupProps } from './payment-eligible-bots';
export { EdgeVerifier, type EdgeVerifierProps } from './edge-verifier';
export { PaywalledBehavior, type PaywalledBehaviorProps } from './paywalled-behavior';
export { ReceiptTable, type ReceiptTableProps } from './receipt-table';
export { PaymentsDashboard, type PaymentsDashboardProps } from './payments-dashboard';
export { BatchClaims, type BatchClaimsOptions, type BatchClaimsProps } from './batch-claims';
export { SettlementIngest, type SettlementIngestOptions, type SettlementIngestProps } from './settlement-ingest';
export { CloudFrontOriginIngress, OriginSecret, type CloudFrontOriginIngressProps, type OriginSecretProps } from './origin-protection';
export { ReferenceStack, type ReferenceStackProps } from './reference-stack';
