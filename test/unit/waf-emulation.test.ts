import {
  createWafEmulation,
  defaultWafEmulation,
  DEFAULT_BOT_CATEGORY_HEADER,
  DEFAULT_ELIGIBILITY_HEADER,
} from '../../local/waf-emulation';

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
