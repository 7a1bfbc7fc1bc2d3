import { revenueFromReceipts, type ReceiptLike } from '../../cli/revenue';
import { barChart, renderReportHtml } from '../../cli/report-html';

const base = { engine: 'edge', network: 'eip155:84532', payer: '0x1111111111111111111111111111111111111111', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', route: '/articles/*', createdAt: '2026-12-01T10:00:00.000Z', status: 'settled' };
const window = [new Date('2026-12-01T00:00:00Z'), new Date('2026-12-03T00:00:00Z')] as const;

describe('cdk-x402 report --html: the page', () => {
  it('is self-contained: no script, no external stylesheet, font or image', () => {
    const html = renderReportHtml(revenueFromReceipts([{ ...base, amount: '1000' }], ...window), 'receipt table');
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=/i);
    expect(html).toContain('data-value="$0.001"');
  });

  it('charts agents and intents when the receipts record them, the payer (unverified) otherwise', () => {
    const without = renderReportHtml(revenueFromReceipts([{ ...base, amount: '1000' }], ...window), 'x');
    expect(without).toContain('By payer (agent unverified)');
    expect(without).not.toContain('By intent');
    expect(without).not.toContain('By verified bot');
    const rows: ReceiptLike[] = [{ ...base, amount: '1000', agent: 'ResearchBot', intent: 'summarise', botCategory: 'ai', botOrganization: 'example' }];
    const withAgent = renderReportHtml(revenueFromReceipts(rows, ...window), 'x');
    expect(withAgent).toMatch(/<h2>By agent<\/h2>.*data-key="ResearchBot"/s);
    expect(withAgent).toMatch(/<h2>By intent<\/h2>.*data-key="summarise"/s);
    expect(withAgent).toMatch(/<h2>By verified bot category<\/h2>.*data-key="ai"/s);
    expect(withAgent).toMatch(/<h2>By verified bot organization<\/h2>.*data-key="example"/s);
  });

  it('escapes keys, so a route cannot inject markup', () => {
    const html = barChart('x', 'T', [{ key: '<img src=x onerror=alert(1)>', payments: 1, amounts: [{ network: 'n', asset: 'a', label: 'l', atomic: '5' }] }]);
    expect(html).not.toContain('<img');
    expect(html).toContain('data-value="5 atomic"');
  });
});
