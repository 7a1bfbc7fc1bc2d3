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
 *     (WAF only overwrites its inserted headers when a rule matches, so a client could fake one).
 *     Like WAF, it inspects only the first 8 KB and 200 headers (the deployed rule's
 *     oversizeHandling is CONTINUE): a header past them is not seen;
 *  2. payment eligibility: AI bot (even with a `Mozilla/` UA), or a non-browser / missing UA, or a
 *     request that carries an x402 payment header — unless an allow-listed free bot;
 *  3. eligible requests get `x-amzn-waf-x402-eligible: true` and, when known,
 *     `x-amzn-waf-x402-bot-category: <category>` (what label interpolation of
 *     `awswaf:managed:aws:bot-control:bot:category:` would produce);
 *  4. with {@link BotControlEmulation}: the synthesized web ACL's own label rules (Count rules
 *     inserting headers on label matches only: x402-agent-verified-<n>, x402-verified-bot-category-<n>,
 *     x402-verified-bot-organization-<n> and their `none` rules), in priority order, over the Bot
 *     Control labels the test declares for the request. Bot Control itself is not run: which labels
 *     a request gets is the test's word (a function of the request, e.g. of its User-Agent), never
 *     a request header, so no client can choose its labels; the deployed stack runs real WAF and
 *     none of this file.
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
  evaluate(req: WafRequest): WafVerdict;
}

/** The labels Bot Control's managed rule group adds, `awswaf:managed:aws:bot-control:<name>`. */
export const BOT_CONTROL_LABEL_NAMESPACE = 'awswaf:managed:aws:bot-control:';
/** What WAF inspects of the request headers (CloudFront web ACLs): the first 8 KB and the first 200 headers. */
export const WAF_HEADER_INSPECTION_BYTES = 8192;
export const WAF_HEADER_INSPECTION_COUNT = 200;

/** A web ACL statement as the synthesized template holds it (CloudFormation's PascalCase); only label statements are evaluated. */
export interface TemplateStatement {
  readonly LabelMatchStatement?: { readonly Scope: string; readonly Key: unknown };
  readonly AndStatement?: { readonly Statements: readonly TemplateStatement[] };
  readonly OrStatement?: { readonly Statements: readonly TemplateStatement[] };
  readonly NotStatement?: { readonly Statement: TemplateStatement };
  readonly [other: string]: unknown;
}

/** A web ACL rule as the synthesized template holds it. */
export interface TemplateRule {
  readonly Name: string;
  readonly Priority: number;
  readonly Statement: TemplateStatement;
  readonly Action?: { readonly Count?: { readonly CustomRequestHandling?: { readonly InsertHeaders?: readonly { readonly Name: string; readonly Value: string }[] } } };
  readonly RuleLabels?: readonly { readonly Name: string }[];
}

/** Bot Control's outcome for tests, and the synthesized rules that read it. */
export interface BotControlEmulation {
  /** The web ACL's rules (webAclRulesFromTemplate). */
  readonly rules: readonly TemplateRule[];
  /** The Bot Control label names (after `awswaf:managed:aws:bot-control:`, e.g. `bot:verified`) a request gets. */
  labels(request: WafRequest): readonly string[];
}

export interface WafRequest {
  readonly method: string;
  readonly uri: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface WafEmulationOptions {
  /** Inserted header name; WAF adds the `x-amzn-waf-` prefix when missing, as the real one does. */
  eligibilityHeader?: string;
  /** Allow-listed bots that pass free (default {@link DEFAULT_FREE_BOTS}). */
  freeBots?: string[];
  /** AI bot names, eligible even with a browser UA (default {@link DEFAULT_AI_BOTS}). */
  aiBots?: string[];
  /** Evaluate the synthesized web ACL's label rules over these Bot Control labels. @default no label rules */
  botControl?: BotControlEmulation;
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

      // Rule 1: anti-spoofing, over the headers WAF inspects.
      if (inspectedHeaderNames(headers).some((name) => name.startsWith(WAF_HEADER_PREFIX))) {
        return { action: 'block', status: 403, body: BLOCK_BODY, contentType: 'text/plain; charset=utf-8' };
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
      const insertHeaders: Record<string, string> = {};
      if (eligible) {
        insertHeaders[eligibilityHeader] = 'true';
        if (category) insertHeaders[categoryHeader] = category;
      }
      // Rule 4: the web ACL's label rules.
      if (opts.botControl) Object.assign(insertHeaders, labelRuleInsertions(opts.botControl.rules, opts.botControl.labels(req)));
      return { action: 'allow', insertHeaders };
    },
  };
}

/** The header names WAF inspects, in the order the client sent them: within the first 8 KB and 200 headers. */
function inspectedHeaderNames(headers: ReadonlyMap<string, string | string[] | undefined>): string[] {
  const inspected: string[] = [];
  let bytes = 0;
  for (const [name, value] of headers) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) {
      if (bytes >= WAF_HEADER_INSPECTION_BYTES || inspected.length >= WAF_HEADER_INSPECTION_COUNT) return inspected;
      inspected.push(name);
      bytes += Buffer.byteLength(`${name}: ${one}\r\n`);
    }
  }
  return inspected;
}

/** Our rules' own labels, as WAF qualifies a web ACL's labels (the account and name are local stand-ins). */
const LOCAL_WEB_ACL_LABEL_NAMESPACE = 'awswaf:000000000000:webacl:local:';

/**
 * Evaluates, in priority order, the Count rules that insert headers on label matches alone; every
 * other rule (Bot Control's group, eligibility by header, rate limit) is left to the rules above.
 * A matching rule adds its labels, which later rules see, and inserts its headers (a later
 * insertion of the same header replaces an earlier one, as WAF does).
 */
function labelRuleInsertions(rules: readonly TemplateRule[], botControlLabels: readonly string[]): Record<string, string> {
  const labels = botControlLabels.map((name) => BOT_CONTROL_LABEL_NAMESPACE + name);
  const inserted: Record<string, string> = {};
  for (const rule of [...rules].sort((a, b) => a.Priority - b.Priority)) {
    const insertions = rule.Action?.Count?.CustomRequestHandling?.InsertHeaders;
    if (!insertions || !isLabelStatement(rule.Statement) || !labelStatementMatches(rule.Statement, labels)) continue;
    labels.push(...(rule.RuleLabels ?? []).map((label) => LOCAL_WEB_ACL_LABEL_NAMESPACE + label.Name));
    for (const header of insertions) inserted[withWafPrefix(header.Name)] = header.Value;
  }
  return inserted;
}

function isLabelStatement(statement: TemplateStatement): boolean {
  if (statement.LabelMatchStatement) return statement.LabelMatchStatement.Scope === 'LABEL' && typeof statement.LabelMatchStatement.Key === 'string';
  if (statement.AndStatement) return statement.AndStatement.Statements.every(isLabelStatement);
  if (statement.OrStatement) return statement.OrStatement.Statements.every(isLabelStatement);
  if (statement.NotStatement) return isLabelStatement(statement.NotStatement.Statement);
  return false;
}

/** A LABEL-scope key names a label by its name and any of its namespaces, up to the fully qualified name. */
function labelStatementMatches(statement: TemplateStatement, labels: readonly string[]): boolean {
  if (statement.LabelMatchStatement) {
    const key = statement.LabelMatchStatement.Key as string;
    return labels.some((label) => label === key || label.endsWith(`:${key}`));
  }
  if (statement.AndStatement) return statement.AndStatement.Statements.every((s) => labelStatementMatches(s, labels));
  if (statement.OrStatement) return statement.OrStatement.Statements.some((s) => labelStatementMatches(s, labels));
  return !labelStatementMatches(statement.NotStatement!.Statement, labels);
}

/** The rules of the web ACL a synthesized template defines (none when it has no web ACL). */
export function webAclRulesFromTemplate(template: unknown): TemplateRule[] {
  const resources = Object.values(((template as { Resources?: Record<string, { Type?: string; Properties?: { Rules?: TemplateRule[] } }> } | null)?.Resources ?? {}));
  const acls = resources.filter((resource) => resource.Type === 'AWS::WAFv2::WebACL');
  if (acls.length > 1) throw new Error(`the template defines ${acls.length} web ACLs; the local edge emulates one`);
  return acls[0]?.Properties?.Rules ?? [];
}

export const defaultWafEmulation: WafEmulation = createWafEmulation();
