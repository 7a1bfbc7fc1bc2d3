/**
 * The HTML report in headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run): the
 * charts show the test data, read in the page and seen in a screenshot.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { chromium, type BrowserContext } from 'playwright-core';
import { BAR_COLOUR, renderReportHtml } from '../../cli/report-html';
import { revenueFromReceipts, type ReceiptLike } from '../../cli/revenue';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)`);
if (!present) console.warn(`skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
const maybe = present ? describe : describe.skip;

const base = { engine: 'edge', network: 'eip155:84532', payer: '0x1111111111111111111111111111111111111111', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', status: 'settled' };
const rows: ReceiptLike[] = [
  { ...base, route: '/articles/*', amount: '1000', createdAt: '2026-12-01T10:00:00.000Z' },
  { ...base, route: '/articles/*', amount: '1000', createdAt: '2026-12-02T10:00:00.000Z' },
  { ...base, route: 'GET /api/premium-report', amount: '10000', createdAt: '2026-12-02T11:00:00.000Z', payer: '0x2222222222222222222222222222222222222222' },
  { ...base, route: '/api/**', amount: '3000', maxAmount: '5000', scheme: 'upto', createdAt: '2026-12-02T12:00:00.000Z' },
];

maybe('cdk-x402 report --html in headless Chromium', () => {
  let dir: string;
  let context: BrowserContext;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'x402-html-report-'));
    writeFileSync(path.join(dir, 'report.html'), renderReportHtml(revenueFromReceipts(rows, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-03T00:00:00Z')), 'receipt table, eu-west-1'));
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 900, height: 1200 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws one bar per day, route and payer carrying the summed revenue, the metered section, and a screenshot with the bars in it', async () => {
    const page = await context.newPage();
    await page.goto(`file://${path.join(dir, 'report.html')}`);
    const bars = (id: string) => page.$$eval(`#${id} g.bar`, (gs) => gs.map((g) => [g.getAttribute('data-key'), g.getAttribute('data-value'), g.getAttribute('data-payments')]));
    expect(await bars('by-day')).toEqual([['2026-12-01', '$0.001', '1'], ['2026-12-02', '$0.014', '3']]);
    expect(await bars('by-route')).toEqual([['GET /api/premium-report', '$0.01', '1'], ['/api/**', '$0.003', '1'], ['/articles/*', '$0.002', '2']]);
    expect(await bars('by-agent')).toEqual([['0x2222222222222222222222222222222222222222', '$0.01', '1'], ['0x1111111111111111111111111111111111111111', '$0.005', '3']]);
    expect(await page.textContent('#by-agent h2')).toBe('By payer (agent unverified)');
    expect(await page.textContent('#metered [data-field="revenueAtomic"]')).toBe('3000');
    expect(await page.textContent('#metered [data-field="averageFillRatio"]')).toBe('60.0%');
    expect(await page.getAttribute('#total', 'data-usd')).toBe('0.015');
    // The longest bar (the largest value) spans the whole plot; the rest are proportional.
    const widths = await page.$$eval('#by-route rect', (rs) => rs.map((r) => r.getBoundingClientRect().width));
    expect(widths[0]).toBeCloseTo(420, 0);
    expect(widths[1]).toBeCloseTo(126, 0);

    const png = PNG.sync.read(await page.locator('#by-route svg').screenshot());
    // The chart is 840 px wide and 3 bars × 22 px + 4 high (one more row of pixels when it sits at a fractional offset).
    expect(png.width).toBe(840);
    expect(png.height).toBeGreaterThanOrEqual(70);
    expect(png.height).toBeLessThanOrEqual(71);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(BAR_COLOUR.slice(i, i + 2), 16));
    let barPixels = 0;
    for (let i = 0; i < png.data.length; i += 4) if (Math.abs(png.data[i] - r) < 8 && Math.abs(png.data[i + 1] - g) < 8 && Math.abs(png.data[i + 2] - b) < 8) barPixels++;
    // Three bars of 420, 126 and 84 px by 16 px, give or take anti-aliased edges.
    expect(barPixels).toBeGreaterThan((420 + 126 + 84) * 16 * 0.9);
  }, 60_000);
});
