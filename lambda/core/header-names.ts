/**
 * x402 header names of both protocol versions, lower-case as CloudFront delivers them. No imports:
 * the constructs read these at synth time (cache keys, CORS, WAF rules) without loading runtime code.
 */
export const PaymentHeaders = {
  signatureV2: 'payment-signature',
  signatureV1: 'x-payment',
  required: 'payment-required',
  responseV2: 'payment-response',
  responseV1: 'x-payment-response',
  /** The origin's actual charge on an `upto` route, JSON `{"amount":"…"}` as @x402/core reads it (docs/metering.md). */
  settlementOverrides: 'settlement-overrides',
} as const;

/** What a request declares it will do with the content (`training`, `inference`, `search`...), read by `intent` price conditions. */
export const INTENT_HEADER = 'x402-intent';

/**
 * Inserted by our WAF rules (lib/payment-eligible-bots.ts): the x402:agents name of the agent Bot
 * Control verified by its Web Bot Auth signature, else {@link WAF_NO_AGENT}. Trusted only because
 * WAF blocks every client-sent `x-amzn-waf-*` header and inserts this one on every request.
 */
export const WAF_AGENT_HEADER = 'x-amzn-waf-x402-agent';
/** The value WAF inserts when no listed agent was verified (and no verified bot category matched). */
export const WAF_NO_AGENT = 'none';
/**
 * Inserted by our WAF rules when a `botCategory` price condition names the category of a bot
 * Bot Control verified (`bot:verified` and `bot:category:<c>`), else {@link WAF_NO_AGENT}; trusted
 * like {@link WAF_AGENT_HEADER}. Unverified categories come from the User-Agent and are never
 * inserted: a client could claim any of them.
 */
export const WAF_VERIFIED_BOT_CATEGORY_HEADER = 'x-amzn-waf-x402-verified-bot-category';
/** Like {@link WAF_VERIFIED_BOT_CATEGORY_HEADER}, for the organization a `botOrganization` condition names (`bot:verified` and `bot:organization:<o>`). */
export const WAF_VERIFIED_BOT_ORGANIZATION_HEADER = 'x-amzn-waf-x402-verified-bot-organization';
