/**
 * The `cdk-x402` command line: `report`, `toggle on|off`, `status`, `reconcile`, `denylist import`, `pay`, `catalog`. {@link runCli} parses the
 * arguments (commander), runs the command and returns the exit code; bin/cdk-x402.ts wires it to
 * the process. Everything it touches comes in through {@link CliDeps}, so tests run it in-process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { packageRoot } from '../lib/package-root';
import { DEFAULT_REFERENCE_STACK_NAME } from '../lib/config/context-keys';
import { defaultClients, Session, type CliDeps, type TargetOptions } from './context';
import { agentPlan, formatAgentPlan } from './agent';
import { catalogFromConfig, formatCatalogTable } from './catalog';
import { formatImportedDenyList, importDenyList } from './denylist';
import { CliError, ExitCode, type ExitCodeValue } from './errors';
import { json, parseDuration, parseTime } from './format';
import { createPassKey, formatCreatedPassKey, formatRetiredPassKey, formatRevokedPass, PASS_KEY_REGION, retirePassKey, revokePass } from './pass-key';
import { DEFAULT_BUDGET_USDC, DEFAULT_MAX_USDC, defaultLedgerFile, formatPaid, formatPayTerms, pay } from './pay';
import { formatReconcile, reconcile } from './reconcile';
import { formatReport, report, REPORT_GROUPINGS, type ReportGrouping } from './report';
import { renderReportHtml } from './report-html';
import { formatStatus, status } from './status';
import { toggle, type ToggleResult } from './toggle';

const EXIT_CODES_HELP = `
Exit codes:
  0  success (toggle: also when charging was already in the requested state; reconcile: also when
     rows stay pending or need a look, which the output lists)
  1  unexpected failure
  2  bad command line (unknown command or option, invalid value)
  3  AWS setup: credentials, region, permissions, or a resource that does not exist
  4  toggle refused: rules named like cdk-x402's were changed outside cdk-x402;
     reconcile refused: --rpc-url serves another chain than the receipts' network (nothing written);
     pay refused: the terms break the spending policy (nothing signed)
  5  toggle gave up: the web ACL kept changing under it (stale lock token)
  6  reconcile: the chain RPC (--rpc-url) is unreachable or failing`;

const FINDING_HELP = `
Finding the deployment:
  --table and --web-acl-arn name the resources directly. Whatever they leave open is read from the
  outputs of the reference stack (--stack, default ${DEFAULT_REFERENCE_STACK_NAME}; CloudFormation DescribeStacks) in --region
  (default $AWS_REGION, else us-east-1). The web ACL is always read in us-east-1 (CLOUDFRONT scope).
  Credentials: the AWS SDK's default chain (environment, --profile / $AWS_PROFILE, SSO, ...).`;

export function defaultDeps(): CliDeps {
  return {
    io: { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
    env: process.env,
    now: Date.now,
    clients: defaultClients,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

function version(): string {
  try {
    return JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** The options every command takes. */
function withTarget(command: Command): Command {
  return command
    .option('--stack <name>', 'reference stack whose outputs name the receipt table and web ACL', DEFAULT_REFERENCE_STACK_NAME)
    .option('--region <region>', 'region of the stack and of the receipt table (default: $AWS_REGION, else us-east-1)')
    .option('--table <name>', 'receipt table name (instead of the stack output ReceiptTableName)')
    .option('--web-acl-arn <arn>', 'ARN of the CLOUDFRONT web ACL (instead of the stack output WebAclArn)')
    .option('--profile <name>', 'AWS profile of the credentials (default: $AWS_PROFILE)')
    .option('--json', 'print one JSON document on stdout (progress stays on stderr)')
    .option('-q, --quiet', 'no progress on stderr');
}

export function buildProgram(deps: CliDeps, setExit: (code: ExitCodeValue) => void): Command {
  const program = new Command('cdk-x402')
    .description('Revenue, status, the charging switch and reconciliation of a cdk-x402 deployment (x402 payments for AI agents on CloudFront)')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: deps.io.stdout, writeErr: deps.io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .addHelpText('after', `\nExamples:\n  cdk-x402 status\n  cdk-x402 report --since 7d\n  cdk-x402 toggle off --dry-run\n  cdk-x402 reconcile --rpc-url https://sepolia.base.org --dry-run\n${FINDING_HELP}\n${EXIT_CODES_HELP}`);

  const session = (options: TargetOptions) => {
    if (options.profile) (deps.env as Record<string, string | undefined>).AWS_PROFILE = options.profile;
    return new Session(deps, options);
  };

  withTarget(
    program
      .command('report')
      .summary('revenue by route, by payer and by day')
      .description(
        'Revenue by route, by payer and by day, with totals in USD and in atomic units, from the receipt table ' +
          '(both engines; the waf engine\'s rows come from the settlement ingestion) or, with --source waf, from AWS WAF\'s revenue statistics.',
      ),
  )
    .option('--since <time>', 'start of the window: date, UTC date-time, or duration ago (30d, 12h)', '30d')
    .option('--until <time>', 'end of the window (exclusive)', 'now')
    .addOption(new Option('--source <source>', 'table: the receipt table; waf: AWS WAF GetRevenueStatistics* (waf engine)').choices(['table', 'waf']).default('table'))
    .option('--route <pattern>', 'only this route (table source: the byRoute index), e.g. "/articles/*"')
    .option('--payer <address>', 'only this payer (table source: the byPayer index)')
    .addOption(new Option('--currency-mode <mode>', 'waf source: TEST or REAL statistics (default: the web ACL\'s)').choices(['TEST', 'REAL']))
    .option('--html <file>', 'also write the report as a self-contained HTML page with charts to <file>')
    .addOption(new Option('--by <grouping>', 'text output: the totals and only this grouping (agent, category, organization: the verified agents and bots receipts record, docs/identity.md)').choices([...REPORT_GROUPINGS]))
    .addHelpText('after', `\nExamples:\n  cdk-x402 report --since 2026-11-01 --until 2026-12-01\n  cdk-x402 report --since 7d --by agent\n  cdk-x402 report --since 30d --html revenue.html\n  cdk-x402 report --since 24h --json\n  cdk-x402 report --route "/articles/*" --table CdkX402-x402-receipts --region eu-west-1\n  cdk-x402 report --source waf --since 7d\n${FINDING_HELP}\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      const s = session(opts);
      const now = deps.now();
      const result = await report(s, {
        ...opts,
        since: parseTime(opts.since, now, '--since'),
        until: parseTime(opts.until, now, '--until'),
      });
      const where = result.source === 'waf' ? `AWS WAF revenue statistics` : `receipt table${opts.table ? ` ${opts.table}` : ''}, ${s.region}`;
      if (opts.html) writeFileSync(opts.html, renderReportHtml(result, where));
      s.out(opts.json ? json(result) : formatReport(result, where, opts.by as ReportGrouping | undefined));
      setExit(ExitCode.ok);
    });

  withTarget(
    program
      .command('toggle')
      .summary('switch charging on or off without a redeploy')
      .description(
        'Switch charging of the deployed web ACL on or off, without a redeploy. Reads the web ACL, shows the diff, and writes it back ' +
          'with its lock token (re-reading and retrying when someone else changed it meanwhile). Only rules cdk-x402 created are switched; ' +
          'it refuses to run when a rule named like cdk-x402\'s was changed outside it.\n\n' +
          'waf engine: each x402-monetize-route-N rule goes Monetize (on) <-> Count (off); its PriceMultiplier is kept in a rule label meanwhile.\n\n' +
          'edge engine: the x402-payment-eligible rule inserts the x-amzn-waf-x402-eligible header (on) or not (off). ' +
          'Off, nobody is asked to pay; a client that sends a payment header unasked is still verified and charged.\n\n' +
          'A later `cdk deploy` that changes the web ACL restores the deployed state (charging on).',
      ),
  )
    .addArgument(new Argument('<state>', 'on: charge; off: stop charging').choices(['on', 'off']))
    .option('--dry-run', 'show the diff, change nothing')
    .addHelpText('after', `\nExamples:\n  cdk-x402 toggle off --dry-run\n  cdk-x402 toggle off\n  cdk-x402 toggle on --web-acl-arn arn:aws:wafv2:us-east-1:123456789012:global/webacl/site-x402/abc --json\n${FINDING_HELP}\n${EXIT_CODES_HELP}`)
    .action(async (state: 'on' | 'off', opts) => {
      const s = session(opts);
      const result: ToggleResult = await toggle(s, state, opts);
      if (opts.json) s.out(json(result));
      setExit(ExitCode.ok);
    });

  withTarget(
    program
      .command('status')
      .summary('engine, network, wallet, prices, charging on/off, last ingestion')
      .description('What is deployed: engine, network, wallet, prices per route, whether charging is on, and (waf engine) the last settlement ingestion.'),
  )
    .addHelpText('after', `\nExamples:\n  cdk-x402 status\n  cdk-x402 status --stack MySite --region eu-west-1 --json\n${FINDING_HELP}\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      const s = session(opts);
      const result = await status(s, opts);
      s.out(opts.json ? json(result) : formatStatus(result, deps.now()));
      setExit(ExitCode.ok);
    });

  withTarget(
    program
      .command('reconcile')
      .summary('close receipts the edge left in doubt, from what the chain shows')
      .description(
        'Settles the edge engine\'s receipts whose outcome the edge could not know against the chain, so that settled receipts ' +
          'equal on-chain transfers again. In doubt: failed with unexpected_settle_error, settlement_pending or settlement_unconfirmed ' +
          '(the facilitator\'s answer was lost; the payer may have been charged), and reserved past the authorization\'s validBefore ' +
          '(the origin timed out, or the receipt write after a settlement failed).\n\n' +
          'For each, it reads the token\'s authorizationState(payer, nonce) and, when used,\n' +
          'the transaction that emitted AuthorizationUsed(payer, nonce):\n' +
          '- used, and that transaction paid the amount to payTo: settled (its tx hash)\n' +
          '- used otherwise (other payee or value), or canceled: left as it is, listed\n' +
          '- unused, chain time past validBefore + --grace: released (never charged)\n' +
          '- unused and still valid: left as it is (pending), listed\n\n' +
          'Every write is conditional on the row being as it was read, so concurrent runs and the edge never overwrite each other.\n\n' +
          'Batch-settlement channels: every #batch-channel: row against the contract\'s channels(id) and receivers(payTo, token):\n' +
          '- claimed on chain beyond what the row records (a claim whose recording was lost): the row mirrors the chain (repaired)\n' +
          '- recorded as claimed but not on chain, or charged beyond the highest voucher or the deposit: listed (mismatch)\n' +
          '- served and unclaimed past the withdraw delay, or while the payer withdraws: listed (at-risk)',
      ),
  )
    .requiredOption('--rpc-url <url>', 'JSON-RPC endpoint of a node of the receipts\' network (its eth_chainId must match the receipts\' CAIP-2 network)')
    .option('--grace <duration>', 'how long past validBefore (chain time) an unused authorization must be before it is released', '5m')
    .option('--network <caip2>', 'only rows of this network, e.g. eip155:8453 (default: all; they must all be the RPC\'s chain)')
    .option('--dry-run', 'show what would change, write nothing')
    .addHelpText('after', `\nExamples:\n  cdk-x402 reconcile --rpc-url https://sepolia.base.org --dry-run\n  cdk-x402 reconcile --rpc-url https://mainnet.base.org --network eip155:8453 --json\n  cdk-x402 reconcile --rpc-url $RPC_URL --table CdkX402-x402-receipts --region eu-west-1\n\nPermissions: dynamodb:Scan, dynamodb:GetItem and dynamodb:UpdateItem on the receipt table.\n${FINDING_HELP}\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      const s = session(opts);
      const result = await reconcile(s, { ...opts, graceSeconds: Math.floor(parseDuration(opts.grace, '--grace') / 1000) });
      s.out(opts.json ? json(result) : formatReconcile(result));
      setExit(ExitCode.ok);
    });

  const passKey = program.command('pass-key').summary('create or retire the keys passes are signed with').description('The keys passes (x402:passes) are signed with: `create` one (Secrets Manager), `retire` one (in cdk.json).');
  passKey
    .command('create')
    .description(
      'Creates a P-256 key pair, stores its private key (PKCS#8 PEM) in Secrets Manager, and prints the x402:passKeys entry for cdk.json: ' +
        'the public key as a JWK (baked into the viewer-request, which verifies passes offline) and the secret\'s ARN (read by the origin-request function only, which signs them).',
    )
    .option('--kid <kid>', 'key id in the pass header (default: k<yyyymmdd>-<random>)')
    .option('--secret-name <name>', 'name of the new secret (default: cdk-x402/pass-key-<kid>)')
    .option('--region <region>', 'region of the secret', PASS_KEY_REGION)
    .option('--profile <name>', 'AWS profile of the credentials (default: $AWS_PROFILE)')
    .option('--json', 'print the entry as one JSON document')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText('after', `\nExamples:\n  cdk-x402 pass-key create\n  cdk-x402 pass-key create --kid site-2026-12 --json\n\nPermissions: secretsmanager:CreateSecret and secretsmanager:TagResource.\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      const s = session({ stack: DEFAULT_REFERENCE_STACK_NAME, ...opts });
      const created = await createPassKey(s, opts);
      s.out(opts.json ? json(created.entry) : formatCreatedPassKey(created));
      setExit(ExitCode.ok);
    });
  passKey
    .command('retire')
    .description('Marks a pass key retired (retiredAt) in cdk.json: after the next deploy it stops signing and keeps verifying until the passes it signed have expired. No AWS call.')
    .requiredOption('--kid <kid>', 'the key to retire')
    .option('--context <file>', 'the cdk.json that lists x402:passKeys', 'cdk.json')
    .option('--json', 'print the result as one JSON document')
    .addHelpText('after', `\nExamples:\n  cdk-x402 pass-key retire --kid k20261101-ab12\n${EXIT_CODES_HELP}`)
    .action((opts) => {
      const retired = retirePassKey(opts.context, opts.kid, deps.now());
      deps.io.stdout(opts.json ? json(retired) : formatRetiredPassKey(retired));
      setExit(ExitCode.ok);
    });

  withTarget(
    program
      .command('pass')
      .summary('revoke a pass')
      .description('Passes sold by the edge (x402:passes).')
      .command('revoke')
      .description(
        'Puts a pass on the revocation list in the receipt table: every viewer-request container refuses it (402 pass_revoked) within a minute, ' +
          'as each reloads the list in the background. Entries leave the list when their pass expires.',
      ),
  )
    .requiredOption('--pass-id <id>', 'the pass id (passId of the sale answer and of the receipt row; the jti of the pass)')
    .option('--expires-at <time>', "the pass's expiresAt (ISO 8601), how long it stays listed (default: 31 days, the longest a pass lasts)")
    .addHelpText('after', `\nExamples:\n  cdk-x402 pass revoke --pass-id S2N5sp9LC-nNjJ-BqKgT7gV-dN-EH0Ip --expires-at 2026-12-03T04:24:22Z\n\nPermissions: dynamodb:GetItem and dynamodb:PutItem on the receipt table.\n${FINDING_HELP}\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      const s = session(opts);
      const revoked = await revokePass(s, opts);
      s.out(opts.json ? json(revoked) : formatRevokedPass(revoked));
      setExit(ExitCode.ok);
    });

  program
    .command('denylist')
    .summary('turn the OFAC SDN list into the denied payers file')
    .description('Payer addresses the edge refuses (x402:deniedPayersFile).')
    .command('import')
    .description(
      'Reads the OFAC SDN CSV (its "Digital Currency Address - ETH/USDC/... 0x..." entries; other chains are left out) or a list with one address a line, ' +
        'and writes the normalized file (one EIP-55 address a line) that x402:deniedPayersFile names. The next `cdk deploy` bakes it into the edge. No AWS call.',
    )
    .addArgument(new Argument('<file>', 'the SDN CSV (sdn.csv) or a plain list of addresses'))
    .option('--out <file>', 'where to write (default: the x402:deniedPayersFile of --context, relative to it)')
    .option('--context <file>', 'the cdk.json whose x402:deniedPayersFile names the file', 'cdk.json')
    .option('--skip-invalid', 'leave out entries that are not EVM addresses instead of refusing the file')
    .option('--json', 'print the counts as one JSON document')
    .addHelpText('after', `\nExamples:\n  cdk-x402 denylist import sdn.csv\n  cdk-x402 denylist import sdn.csv --out denied-payers.txt\n${EXIT_CODES_HELP}`)
    .action((file: string, opts) => {
      const imported = importDenyList(file, { out: opts.out, contextFile: opts.context, skipInvalid: opts.skipInvalid }, deps.now());
      deps.io.stdout(opts.json ? json(imported) : formatImportedDenyList(imported));
      setExit(ExitCode.ok);
    });

  program
    .command('agent')
    .summary('plan (and buy) a pass as an agent')
    .description('The agent side of passes (x402:passes), for the site\'s readers, not its publisher.')
    .command('plan')
    .description(
      'Reads the 402 of --url and prints, for --reads planned reads (over --period, if given), what paying per request costs and what each advertised pass costs ' +
        '(a pass shorter than the period is counted as often as it must be bought), cheapest first. With --buy, buys the cheapest way when it is a pass, ' +
        'with the official x402 client, and prints the pass token. No AWS call.',
    )
    .requiredOption('--url <url>', 'a priced URL whose 402 advertises the passes (x402 v2)')
    .requiredOption('--reads <n>', 'reads planned of resources like this one')
    .option('--period <duration>', 'over how long the reads are spread (30m, 12h, 7d): a pass must last it or be bought again (default: one pass suffices)')
    .option('--buy', 'buy the pass when it is the cheaper way (needs --key-env)')
    .option('--key-env <variable>', 'environment variable holding the payer\'s private key (0x + 64 hex digits), for --buy')
    .option('--json', 'print one JSON document on stdout (progress stays on stderr)')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText('after', `\nExamples:\n  cdk-x402 agent plan --url https://example.com/articles/one --reads 500 --period 1d\n  cdk-x402 agent plan --url https://example.com/articles/one --reads 500 --buy --key-env AGENT_KEY\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      const reads = Number(opts.reads);
      if (!Number.isSafeInteger(reads) || reads < 1) throw new CliError(`--reads ${JSON.stringify(opts.reads)} is not a positive integer`, ExitCode.usage);
      if (opts.buy && !opts.keyEnv) throw new CliError('--buy needs --key-env: the variable that holds the paying key', ExitCode.usage, 'add --key-env AGENT_KEY (and export AGENT_KEY=0x...)');
      const periodSeconds = opts.period === undefined ? undefined : Math.ceil(parseDuration(opts.period, '--period') / 1000);
      const progress = (text: string) => (opts.quiet ? undefined : deps.io.stderr(`${text}\n`));
      const result = await agentPlan({ url: opts.url, reads, periodSeconds, buyWithKeyFrom: opts.buy ? opts.keyEnv : undefined }, deps.env, progress);
      deps.io.stdout(opts.json ? json(result) : formatAgentPlan(result));
      setExit(ExitCode.ok);
    });

  program
    .command('pay')
    .summary('read a URL as an agent, paying its 402 within a spending policy')
    .description(
      'Fetches <url> and, when it answers 402, pays it with the official x402 client and prints the content (stdout) and the settlement (stderr). ' +
        'It pays only terms within the spending policy: at most --max per request, at most --budget per UTC day (counted in --ledger when a payment is signed), ' +
        'only on --network with --asset. Terms outside it are refused, with the reason, before anything is signed. No AWS call.',
    )
    .argument('<url>', 'the URL to read')
    .option('--max <usdc>', 'the most one request may cost, in USDC', DEFAULT_MAX_USDC)
    .option('--budget <usdc>', 'the most all payments of one UTC day may cost, in USDC', DEFAULT_BUDGET_USDC)
    .option('--ledger <file>', 'the spending ledger (USDC spent per UTC day)', defaultLedgerFile())
    .option('--network <caip2,...>', 'networks it may pay on (default: eip155:8453,eip155:84532)')
    .option('--asset <address,...>', 'token contracts it may pay with, counted as USDC (default: the USDC of each --network)')
    .option('--dry-run', 'print the 402\'s terms and what the policy says of each; sign and pay nothing (needs no key)')
    .option('--key-file <file>', 'file holding the payer\'s private key (0x + 64 hex digits)')
    .option('--key-env <variable>', 'environment variable holding the payer\'s private key')
    .option('--json', 'print one JSON document on stdout (progress stays on stderr)')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText('after', `\nExamples:\n  cdk-x402 pay https://example.com/articles/one --dry-run\n  cdk-x402 pay https://example.com/articles/one --key-env AGENT_KEY --max 0.005 --budget 0.5\n  cdk-x402 pay https://example.com/api/report --key-file ~/.agent-key --network eip155:8453 --json\n${EXIT_CODES_HELP}`)
    .action(async (url: string, opts) => {
      const result = await pay(url, opts, deps.env, deps.now);
      if (opts.json) deps.io.stdout(json(result));
      else if (result.dryRun) deps.io.stdout(formatPayTerms(result));
      else {
        deps.io.stdout(result.body ?? '');
        if (!opts.quiet) deps.io.stderr(`${formatPaid(result)}\n`);
      }
      setExit(ExitCode.ok);
    });

  program
    .command('catalog')
    .summary('print the catalogue of priced routes, metered routes and passes the edge serves')
    .description(
      'Prints the catalogue the edge engine serves, free, at /.well-known/x402.json (the x402 well-known discovery draft): every priced route, metered (upto) route and pass, ' +
        'with the terms its 402 offers, the method and path to call and the declared input and output. Built from the configuration `cdk synth` would bake ' +
        '(the x402:* keys of --context, with -c key=value on top), by the same code as the edge: the JSON is what the edge serves on --host, byte for byte. ' +
        'Upto routes\' terms name the facilitator\'s address: read from its /supported, as the edge does, unless --facilitator-address gives it; batch-settlement routes\' name the receiver authorizer: x402:receiverAuthorizer, else from /supported when it answers. No AWS call (but a CDP facilitator\'s key).',
    )
    .addOption(new Option('--format <format>', 'json: the catalogue as the edge serves it; table: one line per item').choices(['json', 'table']).default('json'))
    .option('--host <host>', 'the domain agents reach the site on, which the catalogue\'s URLs name (required for json)')
    .option('--context <file>', 'the cdk.json whose context holds the x402:* keys', 'cdk.json')
    .option('-c, --context-value <key=value>', 'a context value on top of the file\'s, as cdk synth -c takes it (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--facilitator-address <address>', 'what upto terms name (extra.facilitatorAddress), instead of asking the facilitator\'s /supported')
    .addHelpText('after', `\nExamples:\n  cdk-x402 catalog --host example.com\n  cdk-x402 catalog --format table\n  cdk-x402 catalog --host example.com -c x402:routes='{"/articles/*":"$0.001"}' -c x402:payTo=0x209693Bc6afc0C5328bA36FaF03C514EF312287C\n${EXIT_CODES_HELP}`)
    .action(async (opts) => {
      if (opts.format === 'json' && opts.host === undefined) {
        throw new CliError('--format json needs --host: the catalogue names the URLs of the site', ExitCode.usage, 'add --host <the site\'s domain>, e.g. --host example.com, or use --format table');
      }
      const result = await catalogFromConfig({ contextFile: opts.context, contextValues: opts.contextValue, host: opts.host, facilitatorAddress: opts.facilitatorAddress });
      deps.io.stdout(opts.format === 'json' ? `${result.body}\n` : formatCatalogTable(result));
      setExit(ExitCode.ok);
    });

  return program;
}

/** Runs the CLI with `args` (without `node` and the script); resolves to the exit code. */
export async function runCli(args: readonly string[], deps: CliDeps = defaultDeps()): Promise<ExitCodeValue> {
  let exitCode: ExitCodeValue = ExitCode.ok;
  const program = buildProgram(deps, (code) => (exitCode = code));
  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version'].includes(error.code)) return ExitCode.ok;
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const wantsJson = args.includes('--json');
    const cliError = error instanceof CliError ? error : new CliError(`unexpected error: ${(error as Error)?.stack ?? String(error)}`, ExitCode.failure);
    deps.io.stderr(`cdk-x402: ${cliError.message}\n${cliError.fix ? `  Fix: ${cliError.fix}\n` : ''}`);
    if (wantsJson) deps.io.stdout(json({ error: { message: cliError.message, fix: cliError.fix, exitCode: cliError.exitCode, ...cliError.details } }));
    return cliError.exitCode;
  }
}
