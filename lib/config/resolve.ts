/**
 * Settings (from context or props) → the validated configuration every construct takes, with
 * defaults filled in and every problem reported at once.
 */
import { DEFAULT_ELIGIBILITY_HEADER, type EdgeConfig } from '../../lambda/core/config';
import { PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { evmChainId, knownNetwork } from '../../lambda/core/networks';
import { checkAddress } from './address';
import { headerNameProblem, isPaywallHeader } from './header-name';
import { intInRange, nameList, oneOf } from './checks';
import { DEFAULT_ELIGIBLE_BOT_CATEGORIES, DEFAULT_ELIGIBLE_BOT_SIGNALS, DEFAULT_FREE_BOTS, DEFAULT_NETWORK, DEFAULT_ORIGIN_REQUEST_HEADERS } from './context-keys';
import { isTestnet, resolveAsset, resolveChainRpc, resolveFacilitator } from './payment-network';
import { passSiteId, resolvePasses } from './passes';
import { Problems } from './problems';
import type { ResolvedConfig, WafPricing } from './resolved';
import { resolveRoutes, stripUndefined } from './routes';
import { sampleAddress } from './sample-addresses';
import { BotControlInspectionLevel, Engine, OriginProtection, PaidCaching, SettledReceipt, type X402Settings } from './settings';
import { resolveWafPricing, WAF_CHAINS } from './waf-pricing';
import { resolveDeniedPayers } from './deny-list';
import { resolveAgents } from './agents';

/** Bot Control categories known when this was written (others are accepted with a warning). */
export const KNOWN_BOT_CATEGORIES = [
  'advertising', 'ai', 'archiver', 'content_fetcher', 'email_client', 'http_library', 'link_checker',
  'miscellaneous', 'monitoring', 'scraping_framework', 'search_engine', 'security', 'seo', 'social_media',
] as const;
export const KNOWN_BOT_SIGNALS = ['automated_browser', 'known_bot_data_center', 'non_browser_user_agent'] as const;

/** CloudFront's default quota of headers per origin request policy, one of which is the hand-off. */
const MAX_ORIGIN_REQUEST_HEADERS = 9;

/** Validates settings (from context or props) and fills in defaults. Throws {@link X402ConfigError}. */
export function resolveX402Config(settings: X402Settings): ResolvedConfig {
  const problems = new Problems();
  const warnings: string[] = [];

  const engine = oneOf(problems, 'x402:engine', settings.engine, Engine, Engine.EDGE);
  const network = settings.network ?? DEFAULT_NETWORK;
  const known = knownNetwork(network);
  const chainId = evmChainId(network);
  if (chainId === undefined) {
    problems.add('x402:network', network, 'is not an EVM network in CAIP-2 form (eip155:<chainId>)', 'use eip155:84532 (Base Sepolia) or eip155:8453 (Base)');
  } else if (engine === 'waf' && !WAF_CHAINS[network]) {
    problems.add('x402:network', network, 'is not a network AWS WAF monetization settles on', 'with x402:engine=waf use eip155:84532 (Base Sepolia, TEST) or eip155:8453 (Base, REAL)');
  }

  const payTo = checkAddress(
    problems,
    'x402:payTo',
    settings.payTo,
    'set the wallet address that receives payments: -c x402:payTo=0xYourChecksummedAddress on the command line, or "x402:payTo": "0x..." in the context of cdk.json',
  );
  const sample = payTo === undefined ? undefined : sampleAddress(payTo);
  if (sample && !isTestnet(known)) {
    problems.add(
      'x402:payTo',
      payTo,
      `is ${sample}, printed in cdk-x402's README or tests, and x402:network ${network} is not a testnet cdk-x402 knows: real payments would go to whoever holds that address's key`,
      'set the address of your own wallet',
    );
  }

  const asset = resolveAsset(problems, settings.asset, known, engine, warnings);
  const facilitator = resolveFacilitator(problems, settings, engine, known, warnings);
  const chainRpc = resolveChainRpc(problems, settings, engine, warnings);
  const settledReceipt = oneOf(problems, 'x402:settledReceipt', settings.settledReceipt, SettledReceipt, SettledReceipt.BEFORE_RELEASE);
  if (settledReceipt === SettledReceipt.AFTER_RELEASE && engine === Engine.WAF) {
    problems.add('x402:settledReceipt', settledReceipt, 'needs the edge engine: with the waf engine AWS settles and the receipts come from its settlement records', 'remove x402:settledReceipt, or use x402:engine=edge');
  }
  const maxTimeoutSeconds = intInRange(problems, 'x402:maxTimeoutSeconds', settings.maxTimeoutSeconds, 120, 30, 3600, 'the agent signs an authorization valid this long');

  const originRequestHeaders = resolveOriginRequestHeaders(problems, settings.originRequestHeaders ?? DEFAULT_ORIGIN_REQUEST_HEADERS);
  const routes = asset ? resolveRoutes(problems, settings.routes, asset, engine, maxTimeoutSeconds, { forwardedHeaders: originRequestHeaders, warnings }) : [];
  if (facilitator.receiverAuthorizer && engine === Engine.EDGE && !routes.some((route) => route.scheme === 'batch-settlement')) {
    warnings.push('x402:receiverAuthorizer has no effect: no route has scheme batch-settlement');
  }
  const passes = resolvePasses(problems, settings, engine, routes, asset, warnings);
  const deniedPayers = resolveDeniedPayers(problems, settings, engine, payTo);
  const agents = resolveAgents(problems, settings, engine, warnings);
  if (!agents && routes.some((route) => route.priceBy?.some((rule) => rule.when.some((condition) => condition.agent !== undefined)))) {
    warnings.push('x402:routes has a priceBy rule with an agent condition, but neither x402:agents nor x402:unknownAgents is set: no agent is verified, so the rule never matches');
  }

  const eligibleBotCategories = nameList(problems, 'x402:eligibleBotCategories', settings.eligibleBotCategories ?? DEFAULT_ELIGIBLE_BOT_CATEGORIES, KNOWN_BOT_CATEGORIES, warnings);
  const eligibleBotSignals = nameList(problems, 'x402:eligibleBotSignals', settings.eligibleBotSignals ?? DEFAULT_ELIGIBLE_BOT_SIGNALS, KNOWN_BOT_SIGNALS, warnings);
  const freeBotNames: string[] = [];
  const freeBotCategories: string[] = [];
  for (const entry of settings.freeBots ?? DEFAULT_FREE_BOTS) {
    const category = /^category:(.*)$/.exec(entry);
    const name = category ? category[1] : entry;
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) {
      problems.add('x402:freeBots', entry, 'is not a Bot Control bot name or category:<name>', 'write lower-case names as in the labels, e.g. googlebot or category:search_engine');
    } else (category ? freeBotCategories : freeBotNames).push(name);
  }
  for (const category of freeBotCategories) {
    if (eligibleBotCategories.includes(category)) {
      warnings.push(`x402:freeBots lists category:${category}, which is also eligible: its verified bots pass free, unverified ones pay`);
    }
  }

  const botControlInspectionLevel = oneOf(problems, 'x402:botControlInspectionLevel', settings.botControlInspectionLevel, BotControlInspectionLevel, BotControlInspectionLevel.COMMON);
  const rateLimit = settings.rateLimit === undefined ? undefined : intInRange(problems, 'x402:rateLimit', settings.rateLimit, 0, 10, 2_000_000_000, 'WAF rate limits count requests per IP over 5 minutes');
  const paidCaching = oneOf(problems, 'x402:paidCaching', settings.paidCaching, PaidCaching, PaidCaching.PAYMENT_KEYED);
  const originProtection = oneOf(problems, 'x402:originProtection', settings.originProtection, OriginProtection, OriginProtection.SECRET_HEADER);

  let waf: WafPricing | undefined;
  if (engine === 'waf') {
    waf = resolveWafPricing(problems, settings, network, routes, asset);
  } else {
    if (settings.currencyMode !== undefined) warnings.push('x402:currencyMode only applies to the waf engine; the edge engine settles on x402:network');
    if (settings.basePrice !== undefined) warnings.push('x402:basePrice only applies to the waf engine');
  }

  problems.throwIfAny();
  return {
    engine,
    network,
    networkName: known?.displayName ?? network,
    payTo: payTo!,
    asset: asset!,
    facilitator,
    ...(chainRpc ? { chainRpc } : {}),
    settledReceipt,
    maxTimeoutSeconds,
    routes,
    eligibleBotCategories,
    eligibleBotSignals,
    freeBotNames,
    freeBotCategories,
    botControlInspectionLevel,
    rateLimit,
    paidCaching,
    originRequestHeaders,
    originProtection,
    eligibilityHeader: DEFAULT_ELIGIBILITY_HEADER,
    waf,
    ...(passes ? { passes } : {}),
    ...(deniedPayers ? { deniedPayers } : {}),
    ...(agents ? { agents } : {}),
    warnings,
  };
}

/** Where a deployment's passes come from: its `iss` is derived from it ({@link passSiteId}). */
export interface PassSite {
  readonly stackName: string;
  readonly constructPath: string;
}

/** The configuration baked into the Lambda@Edge bundles (`site` is required when passes are on sale). */
export function toEdgeConfig(config: ResolvedConfig, receiptTable: { readonly tableName: string; readonly region: string }, site?: PassSite): EdgeConfig {
  if (config.passes && !site) throw new Error('cdk-x402: toEdgeConfig needs the site of a configuration that sells passes (their iss)');
  return {
    network: config.network,
    payTo: config.payTo,
    asset: config.asset,
    facilitator: config.facilitator,
    ...(config.chainRpc ? { chainRpc: config.chainRpc } : {}),
    ...(config.settledReceipt === SettledReceipt.AFTER_RELEASE ? { settledReceipt: 'after-release' as const } : {}),
    routes: config.routes.map((r) => stripUndefined({ pattern: r.pattern, price: r.price, scheme: r.scheme, maxPrice: r.maxPrice, usageMissing: r.usageMissing, minDeposit: r.minDeposit, withdrawDelay: r.withdrawDelay, description: r.description, mimeType: r.mimeType, maxTimeoutSeconds: r.maxTimeoutSeconds, priceBy: r.priceBy, discovery: r.discovery })),
    eligibilityHeader: config.eligibilityHeader,
    receiptTable: { tableName: receiptTable.tableName, region: receiptTable.region },
    maxTimeoutSeconds: config.maxTimeoutSeconds,
    ...(config.passes && site ? { passes: { siteId: passSiteId(config.payTo, site.stackName, site.constructPath), ...config.passes } } : {}),
    ...(config.deniedPayers?.length ? { deniedPayers: config.deniedPayers } : {}),
    ...(config.agents ? { agents: config.agents } : {}),
  };
}


function resolveOriginRequestHeaders(problems: Problems, value: readonly string[]): string[] {
  const key = 'x402:originRequestHeaders';
  const out: string[] = [];
  for (const raw of value) {
    const name = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    const problem = headerNameProblem(name);
    if (isPaywallHeader(name)) {
      // Handled by the paywall: the hand-off and the cache key (derived payment id, or the payment headers for the waf engine).
    } else if (problem) {
      problems.add(key, raw, problem.problem, problem.fix);
    } else if (name === 'authorization') {
      problems.add(key, raw, 'cannot be forwarded by name in a CloudFront origin request policy', 'remove it (CloudFront forwards Authorization only with an all-viewer-headers policy)');
    } else if (!out.includes(name)) out.push(name);
  }
  if (out.length > MAX_ORIGIN_REQUEST_HEADERS) {
    problems.add(key, value, `lists ${out.length} headers; an origin request policy holds 10 by default and one is the payment hand-off (${PENDING_SETTLEMENT_HEADER})`, `keep at most ${MAX_ORIGIN_REQUEST_HEADERS}`);
  }
  return out;
}
