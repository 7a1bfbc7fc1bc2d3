/**
 * `cdk-x402 report` and `status` against a receipt table in dynalite written the way both engines
 * write it (the edge's DynamoReceiptStore, the ingestion's DynamoSettlementStore), with WAFv2 and
 * CloudFormation mocked (aws-sdk-client-mock). Also: help, usage errors, and AWS errors explained.
 */
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetRevenueStatisticsCommand,
  GetRevenueStatisticsSummaryCommand,
  GetRevenueStatisticsTimeSeriesCommand,
  GetWebACLCommand,
  UpdateWebACLCommand,
  WAFNonexistentItemException,
  WAFV2Client,
  type GetRevenueStatisticsCommandOutput,
  type SettlementRecord,
} from '@aws-sdk/client-wafv2';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { ExitCode } from '../../cli/errors';
import { knownNetwork } from '../../lambda/core/networks';
import { paymentIdOf, type Receipt } from '../../lambda/core/receipt';
import { DynamoReceiptStore } from '../../lambda/edge/dynamo-receipt-store';
import { DynamoSettlementStore } from '../../lambda/ingest/dynamo-settlement-store';
import { compileIngestRoutes, toReceiptRow } from '../../lambda/ingest/settlement-records';
import type { IngestSettings } from '../../lambda/ingest/settings';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { cli, deployedWebAcl, FakeWebAcls, PAY_TO, stackOutputs, WEB_ACL_ARN } from '../support/cli';
import { Engine } from '../../lib/config/settings';

const wafMock = mockClient(WAFV2Client);
const cfnMock = mockClient(CloudFormationClient);
const TABLE = 'CdkX402-x402-receipts';
const USDC = knownNetwork('eip155:84532')!.usdc.address;
const [A, B, C] = ['0xAaAa000000000000000000000000000000000001', '0xBbBb000000000000000000000000000000000002', '0xCcCc000000000000000000000000000000000003'];
const NOW = Date.parse('2026-11-21T00:00:00Z');
let ddb: LocalDynamo;

function edgeReceipt(nonce: string, payer: string, route: string, amount: string, createdAt: string): Receipt {
  return {
    paymentId: paymentIdOf('eip155:84532', USDC, payer, nonce),
    status: 'reserved',
    engine: 'edge',
    network: 'eip155:84532',
    payer,
    payTo: PAY_TO,
    amount,
    asset: USDC,
    nonce,
    resource: `https://example.com${route === '/articles/*' ? '/articles/one' : '/api/premium-report'}`,
    route,
    x402Version: 2,
    createdAt,
    updatedAt: createdAt,
    expiresAt: 0,
  };
}

const INGEST: IngestSettings = {
  network: 'eip155:84532', payTo: PAY_TO, asset: { ...knownNetwork('eip155:84532')!.usdc, symbol: 'USDC' }, currencyMode: 'TEST',
  routes: [{ pattern: '/articles/*', price: '1000' }, { pattern: 'GET /api/premium-report', price: '10000' }],
  overlapSeconds: 900, initialLookbackSeconds: 86400, maxLookbackSeconds: 604800, chunkSeconds: 21600,
};
const wafRecord = (over: Partial<SettlementRecord>): SettlementRecord => ({
  Timestamp: new Date('2026-11-19T12:00:05Z'), RequestTimestamp: new Date('2026-11-19T12:00:00Z'), Status: 'SETTLED', Amount: '0.001', Currency: 'USDC',
  Network: 'BASE_SEPOLIA', PayerAddress: C, WalletAddress: PAY_TO, TransactionId: '0xfeed', RequestId: 'w-1', ContentPath: '/articles/x', WebAclArn: WEB_ACL_ARN, ...over,
});

beforeAll(async () => {
  ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, TABLE);
  const edge = new DynamoReceiptStore(ddb.client, TABLE);
  const settle = async (r: Receipt, to: 'settled' | 'failed' | 'reserved') => {
    await edge.reserve(r);
    if (to === 'settled') await edge.markSettled(r.paymentId, `0x${r.nonce}`, r.createdAt);
    if (to === 'failed') await edge.markFailed(r.paymentId, 'insufficient_funds', r.createdAt);
  };
  await settle(edgeReceipt('01', A, '/articles/*', '1000', '2026-11-18T10:00:00.000Z'), 'settled');
  await settle({ ...edgeReceipt('02', B, 'GET /api/premium-report', '10000', '2026-11-19T09:00:00.000Z'), agent: 'example-agent', agentVerifiedBy: 'waf', botCategory: 'ai', botOrganization: 'openai' }, 'settled');
  await settle(edgeReceipt('03', A, '/articles/*', '1000', '2026-11-19T10:00:00.000Z'), 'reserved');
  await settle(edgeReceipt('04', B, '/articles/*', '1000', '2026-11-19T11:00:00.000Z'), 'failed');
  await settle(edgeReceipt('05', A, '/articles/*', '1000', '2026-10-01T00:00:00.000Z'), 'settled');
  const ingest = new DynamoSettlementStore(ddb.client, TABLE);
  const routes = compileIngestRoutes(INGEST);
  await ingest.upsert(toReceiptRow(wafRecord({}), INGEST, routes).row);
  await ingest.upsert(toReceiptRow(wafRecord({ RequestId: 'w-2', Status: 'PENDING', TransactionId: undefined }), INGEST, routes).row);
  await ingest.saveProgress({ windowEnd: '2026-11-20T23:55:00.000Z' }, WEB_ACL_ARN);
  await ingest.recordSuccess('2026-11-20T23:55:00.000Z', 2);
});
afterAll(async () => {
  wafMock.restore();
  cfnMock.restore();
  await ddb?.close();
});
beforeEach(() => {
  wafMock.reset();
  cfnMock.reset();
});

const tableFlags = ['--table', TABLE, '--region', 'us-east-1'];
const window = ['--since', '2026-11-01', '--until', '2026-11-21'];
const run = (args: string[]) => cli(args, { dynamo: ddb.client, now: NOW });

describe('cdk-x402 --help', () => {
  it('lists the commands and the exit codes', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(ExitCode.ok);
    for (const command of ['report', 'toggle', 'status']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toContain('4  toggle refused');
  });

  it.each([
    ['report', ['--since <time>', '--until <time>', '--source <source>', '--route <pattern>', '--payer <address>', '--currency-mode <mode>']],
    ['toggle', ['<state>', '--dry-run', 'choices: "on", "off"']],
    ['status', []],
  ])('documents every flag of %s', async (command, flags) => {
    const help = await run([command, '--help']);
    expect(help.code).toBe(ExitCode.ok);
    for (const flag of [...flags, '--stack <name>', '--region <region>', '--table <name>', '--web-acl-arn <arn>', '--profile <name>', '--json', 'Examples:', 'Exit codes:']) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('exits 2 on an unknown command, option or value, saying what is wrong', async () => {
    expect(await run([])).toMatchObject({ code: ExitCode.usage });
    const unknown = await run(['reprot']);
    expect(unknown.code).toBe(ExitCode.usage);
    expect(unknown.stderr).toContain("unknown command 'reprot'");
    expect(unknown.stderr).toContain('(Did you mean report?)');
    expect((await run(['status', '--bogus'])).code).toBe(ExitCode.usage);
    expect((await run(['toggle', 'maybe'])).stderr).toContain("Allowed choices are on, off");
    const time = await run(['report', ...tableFlags, '--since', 'last tuesday']);
    expect(time.code).toBe(ExitCode.usage);
    expect(time.stderr).toContain('Fix: use a date (2026-11-01)');
    expect((await run(['report', ...tableFlags, '--since', '2026-11-21', '--until', '2026-11-01'])).code).toBe(ExitCode.usage);
    expect((await run(['report', '--source', 'waf', '--route', '/articles/*'])).stderr).toContain('Fix: drop --source waf, or drop --route/--payer');
  });
});

describe('cdk-x402 report (receipt table, both engines)', () => {
  it('sums settled payments by route, payer and day, in USD and atomic units (--json)', async () => {
    const report = await run(['report', ...tableFlags, ...window, '--json']);
    expect(report.code).toBe(ExitCode.ok);
    const r = report.json();
    expect(r.totals).toMatchObject({ payments: 3, usd: '0.012', byStatus: { settled: 3, reserved: 2, failed: 1 }, byEngine: { edge: 2, waf: 1 } });
    expect(r.totals.amounts).toEqual([{ network: 'eip155:84532', asset: USDC.toLowerCase(), label: 'USDC (Base Sepolia)', atomic: '12000', usd: '0.012' }]);
    const brief = (lines: any[]) => lines.map((l) => [l.key, l.payments, l.usd, l.amounts[0].atomic]);
    expect(brief(r.byRoute)).toEqual([['GET /api/premium-report', 1, '0.01', '10000'], ['/articles/*', 2, '0.002', '2000']]);
    expect(brief(r.byPayer)).toEqual([[B, 1, '0.01', '10000'], [A, 1, '0.001', '1000'], [C, 1, '0.001', '1000']]);
    expect(brief(r.byDay)).toEqual([['2026-11-18', 1, '0.001', '1000'], ['2026-11-19', 2, '0.011', '11000']]);
    expect(r.notes).toEqual(expect.arrayContaining([expect.stringContaining('testnet USDC'), expect.stringContaining('2 payment(s) still pending')]));
    // Progress goes to stderr: stdout is one JSON document.
    expect(report.stderr).toContain(`Reading receipts (scanning table ${TABLE}`);
  });

  it('prints readable tables', async () => {
    const report = await run(['report', ...tableFlags, ...window]);
    expect(report.code).toBe(ExitCode.ok);
    expect(report.stdout).toContain('Settled: 3 payment(s), $0.012   (not revenue: 2 pending, 1 failed)');
    expect(report.stdout).toContain('12000 atomic units of USDC (Base Sepolia) = $0.012');
    expect(report.stdout).toMatch(/ROUTE\s+PAYMENTS\s+USD\s+ATOMIC\s+ASSET/);
    expect(report.stdout).toMatch(/GET \/api\/premium-report\s+1\s+0\.01\s+10000\s+USDC \(Base Sepolia\)/);
    expect(report.stdout).toMatch(/2026-11-19\s+2\s+0\.011\s+11000/);
  });

  it('shows the totals and revenue by verified agent alone with --by agent', async () => {
    const report = await run(['report', ...tableFlags, ...window, '--by', 'agent']);
    expect(report.code).toBe(ExitCode.ok);
    expect(report.stdout).toContain('Settled: 3 payment(s), $0.012');
    expect(report.stdout).toMatch(/AGENT\s+PAYMENTS\s+USD\s+ATOMIC\s+ASSET\n[- ]+\nexample-agent\s+1\s+0\.01\s+10000/);
    expect(report.stdout).not.toMatch(/ROUTE|PAYER|DAY/);
    expect((await run(['report', ...tableFlags, ...window, '--json'])).json().byAgent.map((l: any) => [l.key, l.payments])).toEqual([['example-agent', 1]]);
    expect((await run(['report', ...tableFlags, '--since', '2026-10-01', '--until', '2026-10-02', '--by', 'agent'])).stdout).toContain('By verified agent: none in this window');
  });

  it("shows revenue by the verified bot's category and organization alone with --by category and --by organization, and in --json", async () => {
    const byCategory = await run(['report', ...tableFlags, ...window, '--by', 'category']);
    expect(byCategory.code).toBe(ExitCode.ok);
    expect(byCategory.stdout).toMatch(/By verified bot category\nCATEGORY\s+PAYMENTS\s+USD\s+ATOMIC\s+ASSET\n[- ]+\nai\s+1\s+0\.01\s+10000/);
    expect(byCategory.stdout).not.toMatch(/AGENT|ORGANIZATION|ROUTE/);
    const byOrganization = await run(['report', ...tableFlags, ...window, '--by', 'organization']);
    expect(byOrganization.stdout).toMatch(/ORGANIZATION\s+PAYMENTS\s+USD\s+ATOMIC\s+ASSET\n[- ]+\nopenai\s+1\s+0\.01\s+10000/);
    const json = (await run(['report', ...tableFlags, ...window, '--json'])).json();
    expect([json.byBotCategory.map((l: any) => [l.key, l.payments]), json.byBotOrganization.map((l: any) => [l.key, l.payments])]).toEqual([[['ai', 1]], [['openai', 1]]]);
    expect((await run(['report', ...tableFlags, '--since', '2026-10-01', '--until', '2026-10-02', '--by', 'organization'])).stdout).toContain('By verified bot organization: none in this window');
  });

  it('writes the same report as an HTML page with --html, the bars keyed and valued from the table', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-html-'));
    const file = path.join(dir, 'revenue.html');
    try {
      const report = await run(['report', ...tableFlags, ...window, '--html', file]);
      expect(report.code).toBe(ExitCode.ok);
      const html = readFileSync(file, 'utf8');
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).toContain('<p id="total" data-payments="3" data-usd="0.012">');
      const bars = (section: string) => {
        const body = html.split(`<section id="${section}">`)[1].split('</section>')[0];
        return [...body.matchAll(/<g class="bar" data-key="([^"]+)" data-value="([^"]+)" data-payments="(\d+)">/g)].map((m) => [m[1], m[2], Number(m[3])]);
      };
      expect(bars('by-route')).toEqual([['GET /api/premium-report', '$0.01', 1], ['/articles/*', '$0.002', 2]]);
      expect(bars('by-day')).toEqual([['2026-11-18', '$0.001', 1], ['2026-11-19', '$0.011', 2]]);
      // One settled receipt names its verified agent: the page charts agents.
      expect(bars('by-agent')).toEqual([['example-agent', '$0.01', 1]]);
      expect([bars('by-bot-category'), bars('by-bot-organization')]).toEqual([[['ai', '$0.01', 1]], [['openai', '$0.01', 1]]]);
      expect(html).not.toContain('<script');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads one route or one payer through its index', async () => {
    const route = (await run(['report', ...tableFlags, ...window, '--route', '/articles/*', '--json'])).json();
    expect(route.totals).toMatchObject({ payments: 2, usd: '0.002' });
    expect(route.byRoute.map((l: any) => l.key)).toEqual(['/articles/*']);
    const payer = (await run(['report', ...tableFlags, ...window, '--payer', B, '--json'])).json();
    expect(payer.totals).toMatchObject({ payments: 1, usd: '0.01', byStatus: { settled: 1, failed: 1 } });
  });

  it('finds the table through the reference stack\'s outputs (DescribeStacks in --region)', async () => {
    cfnMock.on(DescribeStacksCommand, { StackName: 'CdkX402' }).resolves({ Stacks: [stackOutputs(Engine.WAF, TABLE)] });
    const report = await run(['report', ...window, '--region', 'eu-west-1', '--json']);
    expect(report.code).toBe(ExitCode.ok);
    expect(report.json().totals.payments).toBe(3);
    expect(await (cfnMock.call(0).thisValue as CloudFormationClient).config.region()).toBe('eu-west-1');
    expect(report.stderr).toContain('Reading the outputs of stack CdkX402 (eu-west-1)');
  });
});

describe('cdk-x402 report --source waf', () => {
  it('reads WAF\'s revenue statistics for this web ACL and currency mode: totals, by path (paged), by bot, by day', async () => {
    const waf = new FakeWebAcls(deployedWebAcl(Engine.WAF));
    wafMock.on(GetWebACLCommand).callsFake(() => waf.get());
    wafMock.on(GetRevenueStatisticsSummaryCommand).resolves({ RevenueBreakdown: { TotalAmount: '0.012', TotalSettled: 3, TotalMonetizeServed: 40, Currency: 'USDC' } });
    const paths: Array<Partial<GetRevenueStatisticsCommandOutput>> = [
      { RevenuePathStatistics: [{ Path: '/api/premium-report', Amount: '0.01', RequestCount: 1, Percentage: 83.3 }], NextMarker: 'm1' },
      { RevenuePathStatistics: [{ Path: '/articles/x', Amount: '0.002', RequestCount: 2, Percentage: 16.7 }] },
    ];
    wafMock.on(GetRevenueStatisticsCommand, { StatisticType: 'TOP_PATHS_BY_REVENUE' }).resolvesOnce(paths[0]).resolvesOnce(paths[1]);
    wafMock.on(GetRevenueStatisticsCommand, { StatisticType: 'TOP_SOURCES_BY_REVENUE' }).resolves({ SourceStatistics: [{ SourceName: 'gptbot', Amount: '0.012', RequestCount: 3, Percentage: 100 }] });
    wafMock.on(GetRevenueStatisticsTimeSeriesCommand).resolves({
      DataPoints: [
        { Date: new Date('2026-11-18T00:00:00Z'), TotalAmount: '0.001', SettledCount: 1, MonetizeServedCount: 10 },
        { Date: new Date('2026-11-19T00:00:00Z'), TotalAmount: '0.011', SettledCount: 2, MonetizeServedCount: 30 },
      ],
    });
    const report = await run(['report', '--source', 'waf', '--web-acl-arn', WEB_ACL_ARN, ...window, '--json']);
    expect(report.code).toBe(ExitCode.ok);
    const r = report.json();
    expect(r).toMatchObject({ source: 'waf', totals: { payments: 3, usd: '0.012', amounts: [{ atomic: '12000', network: 'eip155:84532' }] }, byPayer: [] });
    expect(r.byRoute.map((l: any) => [l.key, l.payments, l.usd])).toEqual([['/api/premium-report', 1, '0.01'], ['/articles/x', 2, '0.002']]);
    expect(r.bySource.map((l: any) => l.key)).toEqual(['gptbot']);
    expect(r.byDay.map((l: any) => [l.key, l.amounts[0].atomic])).toEqual([['2026-11-18', '1000'], ['2026-11-19', '11000']]);
    expect(r.notes).toEqual(expect.arrayContaining([expect.stringContaining('by payer: not in WAF'), expect.stringContaining('40 payment request(s)')]));
    const summary = wafMock.commandCalls(GetRevenueStatisticsSummaryCommand)[0].args[0].input;
    expect(summary).toMatchObject({
      Scope: 'CLOUDFRONT', Currency: 'USDC',
      Filters: [{ Name: 'WebACLArn', Values: [WEB_ACL_ARN] }, { Name: 'CurrencyMode', Values: ['TEST'] }],
      TimeWindow: { StartTime: new Date('2026-11-01T00:00:00Z'), EndTime: new Date('2026-11-21T00:00:00Z') },
    });
    expect(wafMock.commandCalls(GetRevenueStatisticsCommand, { StatisticType: 'TOP_PATHS_BY_REVENUE' }).map((c) => c.args[0].input.NextMarker)).toEqual([undefined, 'm1']);
  });

  it('says so when the web ACL is an edge deployment (no MonetizationConfig)', async () => {
    const waf = new FakeWebAcls(deployedWebAcl(Engine.EDGE));
    wafMock.on(GetWebACLCommand).callsFake(() => waf.get());
    const report = await run(['report', '--source', 'waf', '--web-acl-arn', WEB_ACL_ARN]);
    expect(report.code).toBe(ExitCode.usage);
    expect(report.stderr).toContain('not a waf engine deployment');
  });
});

describe('cdk-x402 status', () => {
  it('shows the waf deployment: network, wallet, prices per route, charging, last ingestion (--json and text)', async () => {
    cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [stackOutputs(Engine.WAF, TABLE)] });
    const waf = new FakeWebAcls(deployedWebAcl(Engine.WAF));
    wafMock.on(GetWebACLCommand).callsFake(() => waf.get());
    wafMock.on(UpdateWebACLCommand).callsFake((input) => waf.update(input));

    const status = await run(['status', '--json']);
    expect(status.code).toBe(ExitCode.ok);
    expect(status.json()).toMatchObject({
      engine: 'waf',
      charging: 'on',
      foundBy: 'stack CdkX402',
      network: { caip2: 'eip155:84532', name: 'Base Sepolia', wafChain: 'BASE_SEPOLIA', currencyMode: 'TEST' },
      wallet: PAY_TO,
      basePrice: '0.001',
      routes: [
        { route: '/articles/*', price: '0.001', multiplier: '1', charging: true },
        { route: 'GET /api/premium-report', price: '0.01', multiplier: '10', charging: true },
      ],
      receiptTable: { name: TABLE, region: 'us-east-1' },
      ingestion: { state: 'ok', lastSuccessAt: '2026-11-20T23:55:00.000Z', windowEnd: '2026-11-20T23:55:00.000Z', recordsLastRun: 2 },
    });

    const text = await run(['status']);
    expect(text.stdout).toMatch(/charging\s+on \(2\/2 Monetize rules charging\)/);
    expect(text.stdout).toMatch(/ingestion\s+last success 2026-11-20T23:55:00.000Z \(5 min ago\)/);
    expect(text.stdout).toMatch(/GET \/api\/premium-report\s+\$0\.01\s+×10\s+charging/);

    // After `toggle off` the prices survive (kept in the rule labels) and charging reads off.
    expect((await run(['toggle', 'off'])).code).toBe(ExitCode.ok);
    const off = (await run(['status', '--json'])).json();
    expect(off.charging).toBe('off');
    expect(off.routes.map((r: any) => [r.price, r.charging])).toEqual([['0.001', false], ['0.01', false]]);
  });

  it('shows an edge deployment from the web ACL and the stack\'s deployment summary', async () => {
    cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [stackOutputs(Engine.EDGE, TABLE)] });
    const waf = new FakeWebAcls(deployedWebAcl(Engine.EDGE));
    wafMock.on(GetWebACLCommand).callsFake(() => waf.get());
    const status = (await run(['status', '--json'])).json();
    expect(status).toMatchObject({
      engine: 'edge',
      charging: 'on',
      network: { caip2: 'eip155:84532' },
      wallet: PAY_TO,
      routes: [{ route: '/articles/*', price: '0.001', amount: '1000' }, { route: 'GET /api/premium-report', price: '0.01', amount: '10000' }],
    });
    expect(status.ingestion).toBeUndefined();
    expect(status.notes).toEqual([expect.stringContaining('edge engine: the verifier writes receipts')]);
  });
});

describe('AWS errors name the resource and the fix (exit 3)', () => {
  it('missing credentials', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const run1 = await run(['status', '--json']);
    expect(run1.code).toBe(ExitCode.aws);
    expect(run1.stderr).toContain('cdk-x402: no AWS credentials for DescribeStacks on CloudFormation stack CdkX402 (us-east-1)');
    expect(run1.stderr).toContain('Fix: configure credentials');
    expect(run1.json().error).toMatchObject({ exitCode: ExitCode.aws, operation: 'DescribeStacks', region: 'us-east-1' });
  });

  it('a stack that does not exist in the region', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Stack with id MySite does not exist' }));
    const missing = await run(['report', '--stack', 'MySite', '--region', 'eu-west-1']);
    expect(missing.code).toBe(ExitCode.aws);
    expect(missing.stderr).toContain('CloudFormation stack MySite does not exist in eu-west-1');
    expect(missing.stderr).toContain('Fix: pass --stack <name> and --region <region>');
  });

  it('a web ACL that does not exist', async () => {
    wafMock.on(GetWebACLCommand).rejects(new WAFNonexistentItemException({ $metadata: { httpStatusCode: 400 }, message: 'AWS WAF couldn\u2019t perform the operation because your resource doesn\u2019t exist.' }));
    const missing = await run(['toggle', 'off', '--web-acl-arn', WEB_ACL_ARN]);
    expect(missing.code).toBe(ExitCode.aws);
    expect(missing.stderr).toContain(`web ACL ${WEB_ACL_ARN} does not exist (GetWebACL, scope CLOUDFRONT, us-east-1)`);
    expect(missing.stderr).toContain('CLOUDFRONT web ACLs exist only in us-east-1');
  });

  it('a receipt table that is not in this region (dynalite answers ResourceNotFoundException)', async () => {
    const missing = await run(['report', '--table', 'no-such-table', '--region', 'us-east-1']);
    expect(missing.code).toBe(ExitCode.aws);
    expect(missing.stderr).toContain('receipt table no-such-table does not exist in us-east-1 (Scan)');
    expect(missing.stderr).toContain('Fix: pass --region of the stack that holds it');
  });
});
