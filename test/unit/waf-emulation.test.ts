import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { WAF_AGENT_HEADER, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER } from '../../lambda/core/header-names';
import type { X402Settings } from '../../lib/config/settings';
import { X402Config } from '../../lib/config/x402-config';
import { PaymentEligibleBots } from '../../lib/payment-eligible-bots';
import {
  createWafEmulation,
  defaultWafEmulation,
  DEFAULT_BOT_CATEGORY_HEADER,
  DEFAULT_ELIGIBILITY_HEADER,
  WAF_HEADER_INSPECTION_BYTES,
  WAF_HEADER_INSPECTION_COUNT,
  webAclRulesFromTemplate,
} from '../../local/waf-emulation';
import { SETTINGS } from '../constructs/helpers';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const evaluate = (headers: Record<string, string | string[] | undefined>, waf = defaultWafEmulation) =>
  waf.evaluate({ method: 'GET', uri: '/api/premium-report', headers });

describe('WAF emulation — rule 1: anti-spoofing', () => {
  it.each(['x-amzn-waf-x402-eligible', 'X-Amzn-Waf-Anything', 'x-amzn-waf-'])('blocks a client-sent %s header with 403', (name) => {
    const v = evaluate({ 'user-agent': CHROME, [name]: 'true' });
    expect(v).toMatchObject({ action: 'block', status: 403 });
    if (v.action === 'block') expect(v.body).toMatch(/emulation/i);
  });

  it('blocks before eligibility: even a paying AI bot cannot smuggle the header', () => {
    expect(evaluate({ 'user-agent': 'GPTBot/1.1', 'payment-signature': 'x', 'x-amzn-waf-x402-eligible': 'false' }).action).toBe('block');
  });

  it('does not block look-alike names', () => {
    expect(evaluate({ 'user-agent': CHROME, 'x-amzn-trace-id': 'Root=1' }).action).toBe('allow');
  });
});

describe('WAF emulation — rule 2/3: eligibility and header insertion', () => {
  it('lets a browser pass free with no inserted header', () => {
    expect(evaluate({ 'user-agent': CHROME })).toEqual({ action: 'allow', insertHeaders: {} });
  });

  it.each([
    ['GPTBot/1.1 (+https://openai.com/gptbot)'],
    ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)'],
    ['CCBot/2.0 (https://commoncrawl.org/faq/)'],
    ['Mozilla/5.0 (compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)'],
    ['Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)'],
  ])('AI bot %s → eligible, category ai (even with Mozilla/)', (ua) => {
    expect(evaluate({ 'user-agent': ua })).toEqual({
      action: 'allow',
      insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true', [DEFAULT_BOT_CATEGORY_HEADER]: 'ai' },
    });
  });

  it.each([
    ['curl/8.5.0', 'http_library'],
    ['python-requests/2.32.3', 'http_library'],
    ['node', 'http_library'],
    ['Go-http-client/1.1', 'http_library'],
    ['Scrapy/2.11 (+https://scrapy.org)', 'scraping_framework'],
  ])('non-browser UA %s → eligible, category %s', (ua, category) => {
    expect(evaluate({ 'user-agent': ua })).toEqual({
      action: 'allow',
      insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true', [DEFAULT_BOT_CATEGORY_HEADER]: category },
    });
  });

  it('missing or unknown non-browser UA → eligible without a category', () => {
    expect(evaluate({})).toEqual({ action: 'allow', insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true' } });
    expect(evaluate({ 'user-agent': 'MyAgent/0.1' })).toEqual({ action: 'allow', insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true' } });
  });

  it.each([
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Googlebot/2.1 (+http://www.google.com/bot.html)',
    'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  ])('allow-listed search engine %s passes free', (ua) => {
    expect(evaluate({ 'user-agent': ua })).toEqual({ action: 'allow', insertHeaders: {} });
  });

  it.each(['payment-signature', 'x-payment'])('a browser carrying %s is eligible', (h) => {
    expect(evaluate({ 'user-agent': CHROME, [h]: 'eyJ4NDAyVmVyc2lvbiI6Mn0=' })).toEqual({
      action: 'allow', insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true' },
    });
  });

  it('a free bot that offers to pay is eligible (category search_engine)', () => {
    expect(evaluate({ 'user-agent': 'Googlebot/2.1', 'payment-signature': 'x' })).toEqual({
      action: 'allow', insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true', [DEFAULT_BOT_CATEGORY_HEADER]: 'search_engine' },
    });
  });

  it('uses the first value of a repeated user-agent', () => {
    expect(evaluate({ 'user-agent': ['GPTBot/1.1', CHROME] }).action).toBe('allow');
    expect(evaluate({ 'user-agent': ['GPTBot/1.1', CHROME] })).toMatchObject({ insertHeaders: { [DEFAULT_BOT_CATEGORY_HEADER]: 'ai' } });
  });
});

describe('createWafEmulation options', () => {
  it('prefixes a custom eligibility header name with x-amzn-waf- like WAF does', () => {
    const waf = createWafEmulation({ eligibilityHeader: 'pay-me' });
    expect(evaluate({ 'user-agent': 'curl/8' }, waf)).toEqual({
      action: 'allow', insertHeaders: { 'x-amzn-waf-pay-me': 'true', [DEFAULT_BOT_CATEGORY_HEADER]: 'http_library' },
    });
    const full = createWafEmulation({ eligibilityHeader: 'X-Amzn-Waf-Custom' });
    expect(evaluate({}, full)).toEqual({ action: 'allow', insertHeaders: { 'x-amzn-waf-custom': 'true' } });
  });

  it('custom freeBots and aiBots replace the defaults', () => {
    const waf = createWafEmulation({ freeBots: ['FriendlyBot'], aiBots: ['HungryBot'] });
    expect(evaluate({ 'user-agent': 'FriendlyBot/1.0' }, waf)).toEqual({ action: 'allow', insertHeaders: {} });
    expect(evaluate({ 'user-agent': `${CHROME} HungryBot/2` }, waf)).toMatchObject({ insertHeaders: { [DEFAULT_BOT_CATEGORY_HEADER]: 'ai' } });
    // Googlebot is no longer allow-listed: a non-browser UA is eligible.
    expect(evaluate({ 'user-agent': 'Googlebot/2.1' }, waf)).toMatchObject({ insertHeaders: { [DEFAULT_ELIGIBILITY_HEADER]: 'true' } });
    // GPTBot is no longer in the AI list: with a browser UA it passes free.
    expect(evaluate({ 'user-agent': `${CHROME} GPTBot/1.1` }, waf)).toEqual({ action: 'allow', insertHeaders: {} });
  });
});

describe('WAF emulation — anti-spoofing inspects what WAF inspects', () => {
  const padding = { 'x-padding': 'a'.repeat(WAF_HEADER_INSPECTION_BYTES) };

  it('does not see a header past the first 8 KB, as WAF (oversizeHandling CONTINUE) does not', () => {
    expect(evaluate({ 'user-agent': 'curl/8', ...padding, 'x-amzn-waf-x402-agent': 'example-agent' }).action).toBe('allow');
    expect(evaluate({ 'user-agent': 'curl/8', 'x-amzn-waf-x402-agent': 'example-agent', ...padding }).action).toBe('block');
  });

  it('does not see a header past the first 200', () => {
    const many = Object.fromEntries(Array.from({ length: WAF_HEADER_INSPECTION_COUNT }, (_, i) => [`x-h${i}`, '1']));
    expect(evaluate({ ...many, 'x-amzn-waf-x402-agent': 'example-agent' }).action).toBe('allow');
    const fewer = Object.fromEntries(Object.entries(many).slice(1));
    expect(evaluate({ ...fewer, 'x-amzn-waf-x402-agent': 'example-agent' }).action).toBe('block');
  });
});

describe('WAF emulation — the synthesized web ACL over declared Bot Control labels', () => {
  // The rules PaymentEligibleBots synthesizes for agents with a botName and for botCategory / botOrganization conditions.
  const settings: X402Settings = {
    ...SETTINGS,
    agents: [{ name: 'example-agent', botName: 'exampleagent' }],
    routes: [{ pattern: '/articles/*', price: '$0.001', priceBy: [
      { price: 'free', when: [{ botOrganization: true, equalTo: 'google' }] },
      { price: '$0.003', when: [{ botCategory: true, oneOf: ['ai', 'search_engine'] }] },
    ] }],
  };
  const stack = new Stack(new App(), 'Waf', { env: { region: 'us-east-1' } });
  new PaymentEligibleBots(stack, 'Bots', { config: X402Config.resolve(settings) });
  const rules = webAclRulesFromTemplate(Template.fromStack(stack).toJSON());
  const withLabels = (...labels: string[]) => createWafEmulation({ botControl: { rules, labels: () => labels } });
  const inserted = (waf: ReturnType<typeof withLabels>, headers: Record<string, string> = { 'user-agent': 'ExampleBot/1.0' }) => {
    const verdict = waf.evaluate({ method: 'GET', uri: '/articles/one', headers });
    if (verdict.action !== 'allow') throw new Error('blocked');
    return [WAF_AGENT_HEADER, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER].map((name) => verdict.insertHeaders[name]);
  };

  it('forwards the category and organization of a verified bot, each only when a price condition names it', () => {
    expect(inserted(withLabels('bot:verified', 'bot:category:ai', 'bot:organization:google'))).toEqual(['none', 'ai', 'google']);
    expect(inserted(withLabels('bot:verified', 'bot:category:ai', 'bot:organization:openai'))).toEqual(['none', 'ai', 'none']);
    expect(inserted(withLabels('bot:verified', 'bot:category:social_media'))).toEqual(['none', 'none', 'none']);
  });

  it('forwards nothing of an unverified bot: its category is its User-Agent, the client\'s word', () => {
    expect(inserted(withLabels('bot:category:ai', 'bot:organization:google'))).toEqual(['none', 'none', 'none']);
    expect(inserted(withLabels())).toEqual(['none', 'none', 'none']);
  });

  it("forwards an agent whose Web Bot Auth signature Bot Control verified, by its x402:agents name", () => {
    expect(inserted(withLabels('web_bot_auth:verified', 'bot:name:exampleagent'))).toEqual(['example-agent', 'none', 'none']);
    expect(inserted(withLabels('web_bot_auth:invalid', 'bot:name:exampleagent'))).toEqual(['none', 'none', 'none']);
  });

  it("overwrites a forged copy past WAF's inspection limit with its own value", () => {
    const forged = { 'user-agent': 'ExampleBot/1.0', 'x-padding': 'a'.repeat(WAF_HEADER_INSPECTION_BYTES), [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'google' };
    expect(inserted(withLabels('bot:verified', 'bot:category:ai'), forged)).toEqual(['none', 'ai', 'none']);
  });

  it('reads no web ACL from a template without one', () => {
    expect(webAclRulesFromTemplate({ Resources: {} })).toEqual([]);
  });
});
