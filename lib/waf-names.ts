/**
 * The names cdk-x402 gives its WAF rules, labels and headers: one home, with no CDK import, so the
 * constructs that create the rules (payment-eligible-bots.ts) and the `cdk-x402` CLI that reads and
 * switches them on a deployed web ACL (cli/toggle.ts) agree on what "our rules" are.
 */
import { DEFAULT_ELIGIBILITY_HEADER } from '../lambda/core/config';
import { WAF_AGENT_HEADER, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER } from '../lambda/core/header-names';

/** WAF prefixes every request header it inserts with this. */
export const WAF_INSERTED_HEADER_PREFIX = 'x-amzn-waf-';
/** The name our rule inserts; WAF adds the prefix, giving `DEFAULT_ELIGIBILITY_HEADER`. */
export const ELIGIBILITY_HEADER_INSERT_NAME = DEFAULT_ELIGIBILITY_HEADER.slice(WAF_INSERTED_HEADER_PREFIX.length);
/** The name our agent rules insert; WAF adds the prefix, giving `WAF_AGENT_HEADER`. */
export const AGENT_HEADER_INSERT_NAME = WAF_AGENT_HEADER.slice(WAF_INSERTED_HEADER_PREFIX.length);
/** The name our verified-bot-category rules insert; WAF adds the prefix, giving `WAF_VERIFIED_BOT_CATEGORY_HEADER`. */
export const VERIFIED_BOT_CATEGORY_HEADER_INSERT_NAME = WAF_VERIFIED_BOT_CATEGORY_HEADER.slice(WAF_INSERTED_HEADER_PREFIX.length);
/** The name our verified-bot-organization rules insert; WAF adds the prefix, giving `WAF_VERIFIED_BOT_ORGANIZATION_HEADER`. */
export const VERIFIED_BOT_ORGANIZATION_HEADER_INSERT_NAME = WAF_VERIFIED_BOT_ORGANIZATION_HEADER.slice(WAF_INSERTED_HEADER_PREFIX.length);
/** Label (name part) our agent rules add to a request Bot Control verified as a listed agent: `x402:agent:<name>`. */
export const AGENT_LABEL_PREFIX = 'x402:agent:';
/** Label (name part) our eligibility rule adds; later rules and your own rules can match it. */
export const ELIGIBLE_LABEL_NAME = 'x402:payment-eligible';
/** Web Bot Auth (RFC 9421) signals a self-declared agent: the request names its signing agent. */
export const SELF_DECLARED_AGENT_HEADER = 'signature-agent';
/** Every web ACL and rule group description cdk-x402 writes starts with this. */
export const DESCRIPTION_PREFIX = 'cdk-x402';

/** Rule names in evaluation order (WAF priorities follow this order). */
export const RuleNames = {
  antiSpoofing: 'x402-block-spoofed-waf-headers',
  botControl: 'aws-bot-control',
  eligible: 'x402-payment-eligible',
  /** One per x402:agents entry with a botName: Bot Control verified its Web Bot Auth signature. */
  agentVerified: (index: number) => `x402-agent-verified-${index + 1}`,
  /** Every other request: WAF's own "no agent" overwrites any forged agent header. */
  agentUnverified: 'x402-agent-unverified',
  /** One per Bot Control category a `botCategory` price condition names: a verified bot of that category. */
  verifiedBotCategory: (index: number) => `x402-verified-bot-category-${index + 1}`,
  /** Every other request: WAF's own "none". */
  noVerifiedBotCategory: 'x402-verified-bot-category-none',
  /** One per Bot Control organization a `botOrganization` price condition names: a verified bot of that organization. */
  verifiedBotOrganization: (index: number) => `x402-verified-bot-organization-${index + 1}`,
  /** Every other request: WAF's own "none". */
  noVerifiedBotOrganization: 'x402-verified-bot-organization-none',
  rateLimit: 'x402-rate-limit-eligible',
  monetize: (index: number) => `x402-monetize-route-${index + 1}`,
  /** waf engine: a route's priceBy rule with a price, ahead of the route's own Monetize rule. */
  monetizeByRule: (route: number, rule: number) => `x402-monetize-route-${route + 1}-rule-${rule + 1}`,
  /** waf engine: a route's free priceBy rule (Allow). */
  freeByRule: (route: number, rule: number) => `x402-free-route-${route + 1}-rule-${rule + 1}`,
  /** waf engine: a route's refusing priceBy rule (Block, 403 agent_refused). */
  refuseByRule: (route: number, rule: number) => `x402-refuse-route-${route + 1}-rule-${rule + 1}`,
} as const;

/** Matches {@link RuleNames.monetize} and {@link RuleNames.monetizeByRule}; group 1 is the 1-based route number, group 2 the priceBy rule's. */
export const MONETIZE_RULE_NAME = /^x402-monetize-route-([1-9]\d*)(?:-rule-([1-9]\d*))?$/;

/**
 * `cdk-x402 toggle off` turns a Monetize rule into a Count rule and keeps its PriceMultiplier in a
 * rule label with this prefix (`x402:paused-price-multiplier:10`), which `toggle on` reads back.
 * While paused, the label also marks the requests that would have been charged.
 */
export const PAUSED_MULTIPLIER_LABEL_PREFIX = 'x402:paused-price-multiplier:';
