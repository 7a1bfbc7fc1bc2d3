/**
 * `cdk-x402 toggle on|off`: read the web ACL (GetWebACL) → plan (cli/waf-rules.ts) → show the diff
 * → write it back under the lock token of that read (UpdateWebACL). When the web ACL changed in
 * between (WAFOptimisticLockException), read it again and re-plan, a few times.
 */
import { GetWebACLCommand, UpdateWebACLCommand, type WebACL } from '@aws-sdk/client-wafv2';
import { CliError, ExitCode, explainAwsError } from './errors';
import type { Session, TargetOptions } from './context';
import { planToggle, ToggleRefused, updateRequest, type ChargingSwitch, type RuleChange, type TogglePlan } from './waf-rules';

export interface ToggleOptions extends TargetOptions {
  readonly dryRun?: boolean;
  /** Attempts on a stale lock token. */
  readonly attempts?: number;
}

export interface ToggleResult {
  readonly webAclArn: string;
  readonly webAclName?: string;
  readonly engine: 'edge' | 'waf';
  readonly to: ChargingSwitch;
  readonly before: string;
  readonly changes: readonly RuleChange[];
  readonly unchangedRules: readonly string[];
  readonly dryRun: boolean;
  /** True when UpdateWebACL was called and succeeded. */
  readonly applied: boolean;
  readonly attempts: number;
}

export const DEFAULT_TOGGLE_ATTEMPTS = 5;

export async function toggle(session: Session, to: ChargingSwitch, options: ToggleOptions): Promise<ToggleResult> {
  const { webAclArn } = await session.target({ webAcl: true });
  const arn = webAclArn!;
  const maxAttempts = options.attempts ?? DEFAULT_TOGGLE_ATTEMPTS;
  const waf = session.deps.clients.waf();
  let shown: string | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    session.progress(attempt === 1 ? `Reading web ACL ${arn}…` : `Reading web ACL again (attempt ${attempt}/${maxAttempts})…`);
    const read = await session.aws({ operation: 'GetWebACL', resource: `web ACL ${arn}`, region: 'us-east-1' }, () => waf.send(new GetWebACLCommand({ ARN: arn, Scope: 'CLOUDFRONT' })));
    const acl = read.WebACL;
    if (!acl || !read.LockToken) throw new CliError(`GetWebACL returned no web ACL or lock token for ${arn}`, ExitCode.failure);
    const plan = plan_(acl, to, arn);
    const diff = formatDiff(acl, arn, plan, to);
    if (diff !== shown && !options.json) {
      // The diff is the command's output: stdout (progress and notes stay on stderr).
      session.out(diff);
      shown = diff;
    }
    const result = {
      webAclArn: arn,
      webAclName: acl.Name,
      engine: plan.state.engine,
      to,
      before: plan.state.charging,
      changes: plan.changes,
      unchangedRules: (acl.Rules ?? []).map((r) => r.Name!).filter((n) => !plan.changes.some((c) => c.rule === n)),
      dryRun: Boolean(options.dryRun),
      attempts: attempt,
    };
    if (plan.changes.length === 0) return { ...result, applied: false };
    if (options.dryRun) {
      session.progress('Dry run: nothing was changed.');
      return { ...result, applied: false };
    }
    session.progress(`Updating web ACL ${acl.Name} (${plan.changes.length} rule${plan.changes.length === 1 ? '' : 's'})…`);
    try {
      await waf.send(new UpdateWebACLCommand(updateRequest(acl, read.LockToken, plan.rules)));
      session.progress(`Done: charging is ${to} for web ACL ${acl.Name}. WAF applies it within about a minute. A later \`cdk deploy\` that changes the web ACL restores the deployed state (charging on).`);
      return { ...result, applied: true };
    } catch (error) {
      if ((error as Error).name !== 'WAFOptimisticLockException') {
        throw explainAwsError(error, { operation: 'UpdateWebACL', resource: `web ACL ${arn}`, region: 'us-east-1' });
      }
      session.progress('The web ACL changed since it was read (stale lock token).');
      await session.deps.sleep(250 * attempt);
    }
  }
  throw new CliError(
    `web ACL ${arn} kept changing: UpdateWebACL refused a stale lock token ${maxAttempts} times; nothing was changed`,
    ExitCode.conflict,
    'wait until whatever else is editing the web ACL (a deployment, Firewall Manager, a colleague) is done, then run toggle again',
  );
}

function plan_(acl: WebACL, to: ChargingSwitch, arn: string): TogglePlan {
  try {
    return planToggle(acl, to);
  } catch (error) {
    if (!(error instanceof ToggleRefused)) throw error;
    throw new CliError(
      `${error.message}${error.problems.length > 0 ? `:\n${error.problems.map((p) => `  - ${p}`).join('\n')}` : ''}`,
      ExitCode.refused,
      error.problems.length > 0
        ? 'restore those rules with `cdk deploy` (or fix them in the WAF console); toggle only switches rules in a state cdk-x402 leaves them in'
        : 'pass the ARN of the web ACL cdk-x402 created (the reference stack\'s WebAclArn output, or X402Paywall.webAclArn)',
      { webAclArn: arn, problems: error.problems },
    );
  }
}

/** The diff shown before anything changes. */
export function formatDiff(acl: WebACL, arn: string, plan: TogglePlan, to: ChargingSwitch): string {
  const lines = [`Web ACL ${acl.Name} (${arn})`, `engine ${plan.state.engine}: charging ${plan.state.charging} → ${to}`];
  if (plan.changes.length === 0) {
    lines.push(`No change: charging is already ${to}.`);
    return lines.join('\n');
  }
  const width = Math.max(...plan.changes.map((c) => c.rule.length));
  for (const change of plan.changes) lines.push(`  ~ ${change.rule.padEnd(width)}  ${change.from}  →  ${change.to}`);
  const others = (acl.Rules ?? []).map((r) => r.Name!).filter((n) => !plan.changes.some((c) => c.rule === n));
  if (others.length > 0) lines.push(`  unchanged: ${others.join(', ')}`);
  return lines.join('\n');
}
