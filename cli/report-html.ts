/**
 * `cdk-x402 report --html <file>`: the same {@link RevenueReport} as the text report, as one
 * self-contained HTML page (inline CSS and SVG bar charts; no scripts, fonts or links to load), so
 * it can be mailed or archived. Pure: the CLI writes the string.
 */
import type { RevenueLine, RevenueReport } from './revenue';

/** The colour of every bar (the browser test looks for its pixels). */
export const BAR_COLOUR = '#2f6fdf';

const BAR_HEIGHT = 22;
const LABEL_WIDTH = 260;
const PLOT_WIDTH = 420;
const VALUE_WIDTH = 160;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What a bar measures: USD when the line has USDC, else its atomic units (summed over assets). */
function barValue(line: RevenueLine): { value: number; text: string } {
  if (line.usd !== undefined) return { value: Number(line.usd), text: `$${line.usd}` };
  const atomic = line.amounts.reduce((sum, a) => sum + BigInt(a.atomic), 0n);
  return { value: Number(atomic), text: `${atomic} atomic` };
}

/** A horizontal bar chart of one grouping; each bar carries its key and value as data attributes. */
export function barChart(id: string, title: string, lines: readonly RevenueLine[]): string {
  if (lines.length === 0) return `<section id="${id}"><h2>${escapeHtml(title)}</h2><p class="empty">no settled payments</p></section>`;
  const values = lines.map(barValue);
  const max = Math.max(...values.map((v) => v.value), 0);
  const height = lines.length * BAR_HEIGHT + 4;
  const rows = lines.map((line, i) => {
    const { value, text } = values[i];
    const width = max > 0 ? Math.max(1, Math.round((value / max) * PLOT_WIDTH)) : 1;
    const y = i * BAR_HEIGHT + 2;
    const label = `${line.key}: ${text}, ${line.payments} payment(s)`;
    return (
      `<g class="bar" data-key="${escapeHtml(line.key)}" data-value="${escapeHtml(text)}" data-payments="${line.payments}">` +
      `<title>${escapeHtml(label)}</title>` +
      `<text x="${LABEL_WIDTH - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(line.key.length > 38 ? `${line.key.slice(0, 37)}…` : line.key)}</text>` +
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${width}" height="${BAR_HEIGHT - 6}" fill="${BAR_COLOUR}"/>` +
      `<text x="${LABEL_WIDTH + width + 6}" y="${y + 15}">${escapeHtml(`${text} (${line.payments})`)}</text></g>`
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH}" height="${height}">${rows.join('')}</svg>`;
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${svg}</section>`;
}

/** The whole page. `where` names the source, as in the text report's first line. */
export function renderReportHtml(report: RevenueReport, where: string): string {
  const t = report.totals;
  const sections: string[] = [];
  sections.push(barChart('by-day', 'By day (UTC)', report.byDay));
  sections.push(barChart('by-route', report.source === 'waf' ? 'By path' : 'By route', report.byRoute));
  // Agent identity is only as good as what the receipt records: without it, the payer address is all there is.
  sections.push(report.byAgent ? barChart('by-agent', 'By agent', report.byAgent) : barChart('by-agent', 'By payer (agent unverified)', report.byPayer));
  if (report.byBotCategory) sections.push(barChart('by-bot-category', 'By verified bot category', report.byBotCategory));
  if (report.byBotOrganization) sections.push(barChart('by-bot-organization', 'By verified bot organization', report.byBotOrganization));
  if (report.byIntent) sections.push(barChart('by-intent', 'By intent', report.byIntent));
  if (report.byPass) sections.push(barChart('by-pass', 'Passes sold', report.byPass));
  if (report.bySource) sections.push(barChart('by-bot', 'By bot', report.bySource));
  if (report.metered) {
    const m = report.metered;
    sections.push(
      `<section id="metered"><h2>Metered (upto)</h2><dl>` +
        `<dt>payments</dt><dd data-field="payments">${m.payments}</dd>` +
        `<dt>charged (atomic)</dt><dd data-field="revenueAtomic">${escapeHtml(m.revenueAtomic)}</dd>` +
        `<dt>authorized (atomic)</dt><dd data-field="maximumAtomic">${escapeHtml(m.maximumAtomic)}</dd>` +
        `<dt>average fill ratio</dt><dd data-field="averageFillRatio">${(m.averageFillRatio * 100).toFixed(1)}%</dd>` +
        `<dt>refused</dt><dd data-field="refusals">${m.refusals}</dd></dl></section>`,
    );
  }
  const amounts = t.amounts.map((a) => `<li>${escapeHtml(`${a.atomic} atomic units of ${a.label}${a.usd !== undefined ? ` = $${a.usd}` : ''}`)}</li>`).join('');
  const notes = report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  const title = `Revenue ${report.since} → ${report.until}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1b1b;background:#fff}h1{font-size:20px}h2{font-size:16px;margin-top:28px}',
    'svg text{font:12px system-ui,sans-serif;fill:#1b1b1b}dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px}dd{margin:0}.empty{color:#666}</style>',
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(where)}</p>`,
    `<p id="total" data-payments="${t.payments}" data-usd="${escapeHtml(t.usd ?? '')}">Settled: ${t.payments} payment(s)${t.usd !== undefined ? `, $${escapeHtml(t.usd)}` : ''}</p>`,
    amounts ? `<ul>${amounts}</ul>` : '',
    ...sections,
    notes ? `<h2>Notes</h2><ul id="notes">${notes}</ul>` : '',
    '</body></html>',
    '',
  ].join('\n');
}
