/**
 * LOCAL EMULATION of the AWS WAF rules that cdk-x402 deploys in front of CloudFront.
 *
 * This is NOT AWS WAF and NOT Bot Control: real Bot Control classifies bots from many signals
 * (user agent, TLS/browser fingerprints, reverse-DNS verification of search engines, ML), and
 * exposes the result as labels that our rules turn into inserted request headers. Here we
 * approximate the outcome from the User-Agent string only, so the local edge sees the same
 * *shape* of input (inserted `x-amzn-waf-*` headers, 403 blocks) as the deployed stack.
 *
 * Known gap: verification of "free" search-engine bots cannot be done on loopback, so any
 * user agent that merely claims to be Googlebot passes free here (real WAF would not verify it).
 *
 * Rules, in order (as in the deployed web ACL):
 *  1. anti-spoofing: any client-sent header starting with `x-amzn-waf-` → block 403
 *     (WAF only overwrites its inserted headers when a rule matches, so a client could fake one);
 *  2. payment eligibility: AI bot (even with a `Mozilla/` UA), or a non-browser / missing UA, or a
 *     request that carries an x402 payment header — unless an allow-listed free bot;
 *  3. eligible requests get `x-amzn-waf-x402-eligible: true` and, when known,
 *     `x-amzn-waf-x402-bot-category: <category>` (what label interpolation of
 *     `awswaf:managed:aws:bot-control:bot:category:` would produce).
 */

import { DEFAULT_ELIGIBILITY_HEADER } from '../lambda/core/config';

export { DEFAULT_ELIGIBILITY_HEADER };

/** WAF prefixes every header it inserts with this. */
export const WAF_HEADER_PREFIX = 'x-amzn-waf-';
export const DEFAULT_BOT_CATEGORY_HEADER = 'x-amzn-waf-x402-bot-category';

/** AI crawlers / agents (Bot Control category `ai`): eligible even with a browser-like UA. */
export const DEFAULT_AI_BOTS: readonly string[] = [
  'GPTBot', 'ChatGPT-User', 'OAI-SearchBot', 'ClaudeBot', 'Claude-User', 'Claude-SearchBot',
  'anthropic-ai', 'CCBot', 'PerplexityBot', 'Perplexity-User', 'Bytespider', 'Amazonbot',
  'meta-externalagent', 'cohere-ai', 'Diffbot', 'YouBot', 'DuckAssistBot', 'MistralAI-User',
];

/** "Verified search engines" that pass free (verification itself is not emulated, see above). */
export const DEFAULT_FREE_BOTS: readonly string[] = [
  'Googlebot', 'bingbot', 'DuckDuckBot', 'Applebot', 'YandexBot', 'Baiduspider', 'Slurp',
];

/** Non-browser clients Bot Control would put in category `http_library`. */
const HTTP_LIBRARIES = [
  'curl', 'Wget', 'python-requests', 'python-httpx', 'Python-urllib', 'aiohttp', 'axios',
  'node-fetch', 'undici', 'node', 'Go-http-client', 'okhttp', 'Java', 'Apache-HttpClient',
  'libwww-perl', 'PostmanRuntime', 'insomnia', 'HTTPie',
];
/** ... and in category `scraping_framework`. */
const SCRAPING_FRAMEWORKS = ['Scrapy', 'colly', 'Nutch', 'heritrix'];

/** x402 payment headers (v2 and v1); a request that offers to pay is eligible. */
const PAYMENT_HEADERS = ['payment-signature', 'x-payment'];

export type WafVerdict =
  | { action: 'block'; status: number; body: string; contentType?: string }
  | { action: 'allow'; insertHeaders: Record<string, string> };

export interface WafEmulation {
  evaluate(req: {
    method: string;
    uri: string;
    headers: Record<string, string | string[] | undefined>;
  }): WafVerdict;
}

export interface WafEmulationOptions {
  /** Inserted header name; WAF adds the `x-amzn-waf-` prefix when missing, as the real one does. */
  eligibilityHeader?: string;
  /** Allow-listed bots that pass free (default {@link DEFAULT_FREE_BOTS}). */
  freeBots?: string[];
  /** AI bot names, eligible even with a browser UA (default {@link DEFAULT_AI_BOTS}). */
  aiBots?: string[];
}

/** Matches a bot/library name as a token of the UA (`GPTBot/1.1`, `(compatible; bingbot/2.0)`). */
function tokenMatcher(names: readonly string[]): (ua: string) => boolean {
  if (names.length === 0) return () => false;
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(?<![A-Za-z0-9])(?:${escaped.join('|')})(?![A-Za-z0-9-])`, 'i');
  return (ua) => re.test(ua);
}

function withWafPrefix(name: string): string {
  const lower = name.toLowerCase();
  return lower.startsWith(WAF_HEADER_PREFIX) ? lower : WAF_HEADER_PREFIX + lower;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

const BLOCK_BODY =
  '403 Forbidden: request blocked by the local WAF emulation ' +
  '(client-sent x-amzn-waf-* header; such headers are reserved for WAF header insertion).\n';

export function createWafEmulation(opts: WafEmulationOptions = {}): WafEmulation {
  const eligibilityHeader = withWafPrefix(opts.eligibilityHeader ?? DEFAULT_ELIGIBILITY_HEADER);
  const categoryHeader = DEFAULT_BOT_CATEGORY_HEADER;
  const isAiBot = tokenMatcher(opts.aiBots ?? DEFAULT_AI_BOTS);
  const isFreeBot = tokenMatcher(opts.freeBots ?? DEFAULT_FREE_BOTS);
  const isHttpLibrary = tokenMatcher(HTTP_LIBRARIES);
  const isScraper = tokenMatcher(SCRAPING_FRAMEWORKS);

  return {
    evaluate(req) {
      // Node lower-cases header names already; normalise anyway for hand-built inputs.
      const headers = new Map<string, string | string[] | undefined>();
      for (const [k, v] of Object.entries(req.headers)) headers.set(k.toLowerCase(), v);

      // Rule 1: anti-spoofing.
      for (const name of headers.keys()) {
        if (name.startsWith(WAF_HEADER_PREFIX)) {
          return { action: 'block', status: 403, body: BLOCK_BODY, contentType: 'text/plain; charset=utf-8' };
        }
      }

      // Rule 2: classify (an approximation of Bot Control's category label).
      const ua = firstValue(headers.get('user-agent'))?.trim() ?? '';
      let category: string | undefined;
      let eligible = false;
      if (ua && isAiBot(ua)) {
        category = 'ai';
        eligible = true;
      } else if (ua && isFreeBot(ua)) {
        category = 'search_engine';
      } else if (!ua.startsWith('Mozilla/')) {
        // Missing or non-browser UA (Bot Control signal `non_browser_user_agent`).
        eligible = true;
        if (ua && isScraper(ua)) category = 'scraping_framework';
        else if (ua && isHttpLibrary(ua)) category = 'http_library';
      }
      if (PAYMENT_HEADERS.some((h) => headers.get(h) !== undefined)) eligible = true;

      // Rule 3: header insertion, only when the eligibility rule matched (as in real WAF).
      if (!eligible) return { action: 'allow', insertHeaders: {} };
      const insertHeaders: Record<string, string> = { [eligibilityHeader]: 'true' };
      if (category) insertHeaders[categoryHeader] = category;
      return { action: 'allow', insertHeaders };
    },
  };
}

export const defaultWafEmulation: WafEmulation = createWafEmulation();
