/**
 * Which rules of a deployed web ACL cdk-x402 created, whether they charge, and how `toggle` flips
 * them. Pure: works on the SDK's WebACL shape (GetWebACL) and produces UpdateWebACL's input.
 *
 * - waf engine: each `x402-monetize-route-N` rule is switched between Monetize (charging) and
 *   Count (not charging); its PriceMultiplier is kept in a rule label while it counts.
 * - edge engine: the `x402-payment-eligible` rule is switched between inserting the
 *   `x-amzn-waf-x402-eligible: true` header (the verifier asks for payment) and not inserting it
 *   (no request is asked to pay; a client that sends a payment header unasked is still verified).
 *
 * A rule counts as cdk-x402's only when its name, metric name, label and action are exactly what
 * cdk-x402 creates or what `toggle` leaves; anything else named like ours is refused, never touched.
 */
import type { Rule, UpdateWebACLRequest, WebACL } from '@aws-sdk/client-wafv2';
import {
  ELIGIBILITY_HEADER_INSERT_NAME,
  ELIGIBLE_LABEL_NAME,
  MONETIZE_RULE_NAME,
  PAUSED_MULTIPLIER_LABEL_PREFIX,
  RuleNames,
  WAF_INSERTED_HEADER_PREFIX,
} from '../lib/waf-names';

export type ChargingSwitch = 'on' | 'off';

export interface MonetizeRuleState {
  readonly kind: 'monetize';
  readonly name: string;
  /** 1-based route number (route N of the configuration). */
  readonly routeNumber: number;
  /** 1-based number of the route's priceBy rule this rule charges for; undefined: the route's own price. */
  readonly ruleNumber?: number;
  readonly charging: boolean;
  readonly multiplier: string;
}

export interface EligibilityRuleState {
  readonly kind: 'eligibility';
  readonly name: string;
  readonly charging: boolean;
}

export type SwitchRule = MonetizeRuleState | EligibilityRuleState;

export interface WebAclState {
  readonly engine: 'edge' | 'waf';
  /** The rules `toggle` switches for this engine. */
  readonly switches: readonly SwitchRule[];
  /** `on`: every switch charges; `off`: none; `partial`: some. `unknown`: no switch found. */
  readonly charging: 'on' | 'off' | 'partial' | 'unknown';
  /** Rules named like cdk-x402's that are not in a state cdk-x402 leaves them in. */
  readonly problems: readonly string[];
  /** Names of the rules toggle never touches. */
  readonly otherRules: readonly string[];
}

export class ToggleRefused extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'ToggleRefused';
  }
}

export function describeWebAcl(acl: WebACL): WebAclState {
  const rules = acl.Rules ?? [];
  const engine = acl.MonetizationConfig || rules.some((r) => MONETIZE_RULE_NAME.test(r.Name ?? '')) ? 'waf' : 'edge';
  const switches: SwitchRule[] = [];
  const problems: string[] = [];
  const otherRules: string[] = [];
  for (const rule of rules) {
    const name = rule.Name ?? '';
    const isSwitch = engine === 'waf' ? MONETIZE_RULE_NAME.test(name) : name === RuleNames.eligible;
    if (!isSwitch) {
      otherRules.push(name);
      continue;
    }
    const state = engine === 'waf' ? monetizeState(rule) : eligibilityState(rule);
    if (typeof state === 'string') problems.push(`rule "${name}": ${state}`);
    else switches.push(state);
  }
  const on = switches.filter((s) => s.charging).length;
  const charging = switches.length === 0 ? 'unknown' : on === switches.length ? 'on' : on === 0 ? 'off' : 'partial';
  return { engine, switches, charging, problems, otherRules };
}

/** The state of a Monetize rule of ours, or why it is not one. */
function monetizeState(rule: Rule): MonetizeRuleState | string {
  const name = rule.Name!;
  const [, route, priceRule] = MONETIZE_RULE_NAME.exec(name)!;
  const routeNumber = Number(route);
  const numbers = priceRule === undefined ? { routeNumber } : { routeNumber, ruleNumber: Number(priceRule) };
  const common = ownership(rule);
  if (common) return common;
  const statements = rule.Statement?.AndStatement?.Statements ?? [];
  const matchesEligibleLabel = statements.some((s) => s.LabelMatchStatement?.Scope === 'LABEL' && s.LabelMatchStatement.Key?.endsWith(`:${ELIGIBLE_LABEL_NAME}`));
  if (!matchesEligibleLabel) return `its statement does not match the ${ELIGIBLE_LABEL_NAME} label, so cdk-x402 did not create it as it is`;
  const actions = Object.keys(rule.Action ?? {}).filter((k) => (rule.Action as Record<string, unknown>)[k] !== undefined);
  const paused = pausedMultipliers(rule);
  if (actions.length === 1 && actions[0] === 'Monetize') {
    const multiplier = rule.Action!.Monetize!.PriceMultiplier ?? '1';
    if (!isMultiplier(multiplier)) return `its PriceMultiplier ${JSON.stringify(multiplier)} is not 1..100`;
    if (paused.length > 0) return `it charges but also carries a ${PAUSED_MULTIPLIER_LABEL_PREFIX}* label`;
    return { kind: 'monetize', name, ...numbers, charging: true, multiplier };
  }
  if (actions.length === 1 && actions[0] === 'Count' && !rule.Action!.Count!.CustomRequestHandling) {
    if (paused.length !== 1 || !isMultiplier(paused[0])) {
      return `it counts but has no single ${PAUSED_MULTIPLIER_LABEL_PREFIX}<n> label to restore its price from`;
    }
    return { kind: 'monetize', name, ...numbers, charging: false, multiplier: paused[0] };
  }
  return `its action is ${actions.join('+') || 'missing'}, which cdk-x402 never sets on it (Monetize, or Count while paused)`;
}

/** The state of our eligibility rule, or why it is not ours as it is. */
function eligibilityState(rule: Rule): EligibilityRuleState | string {
  const common = ownership(rule);
  if (common) return common;
  if (!(rule.RuleLabels ?? []).some((l) => l.Name === ELIGIBLE_LABEL_NAME)) return `it does not add the ${ELIGIBLE_LABEL_NAME} label`;
  const actions = Object.keys(rule.Action ?? {}).filter((k) => (rule.Action as Record<string, unknown>)[k] !== undefined);
  if (actions.length !== 1 || actions[0] !== 'Count') return `its action is ${actions.join('+') || 'missing'}, but cdk-x402 creates it as Count`;
  const inserts = rule.Action!.Count!.CustomRequestHandling?.InsertHeaders ?? [];
  if (inserts.length === 0) return { kind: 'eligibility', name: rule.Name!, charging: false };
  if (inserts.length === 1 && inserts[0].Name === ELIGIBILITY_HEADER_INSERT_NAME && inserts[0].Value === 'true') {
    return { kind: 'eligibility', name: rule.Name!, charging: true };
  }
  return `it inserts headers cdk-x402 does not (${inserts.map((h) => `${h.Name}: ${h.Value}`).join(', ')})`;
}

function ownership(rule: Rule): string | undefined {
  if (rule.VisibilityConfig?.MetricName !== rule.Name) return `its metric name ${JSON.stringify(rule.VisibilityConfig?.MetricName)} differs from its name (cdk-x402 names both alike)`;
  if (rule.OverrideAction) return 'it has an override action (a rule group reference), not a rule action';
  return undefined;
}

function pausedMultipliers(rule: Rule): string[] {
  return (rule.RuleLabels ?? []).filter((l) => l.Name?.startsWith(PAUSED_MULTIPLIER_LABEL_PREFIX)).map((l) => l.Name!.slice(PAUSED_MULTIPLIER_LABEL_PREFIX.length));
}

function isMultiplier(text: string): boolean {
  return /^[1-9]\d{0,2}$/.test(text) && Number(text) <= 100;
}

// ---------------------------------------------------------------------------------------------
// Switching

export interface RuleChange {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
}

export interface TogglePlan {
  readonly state: WebAclState;
  readonly changes: readonly RuleChange[];
  /** The web ACL's rules after the switch (others unchanged, same order). */
  readonly rules: readonly Rule[];
}

/** Plans switching charging `to` on or off. Throws {@link ToggleRefused} rather than touch anything not ours. */
export function planToggle(acl: WebACL, to: ChargingSwitch): TogglePlan {
  const name = acl.Name ?? acl.ARN ?? 'the web ACL';
  if (acl.ManagedByFirewallManager) {
    throw new ToggleRefused(`web ACL ${name} is managed by AWS Firewall Manager, which would undo any change`, []);
  }
  const state = describeWebAcl(acl);
  if (state.problems.length > 0) {
    throw new ToggleRefused(`web ACL ${name} has rules named like cdk-x402's that it did not create as they are now; nothing was changed`, state.problems);
  }
  if (state.switches.length === 0) {
    const expected = state.engine === 'waf' ? 'x402-monetize-route-N' : RuleNames.eligible;
    throw new ToggleRefused(`web ACL ${name} has no rule cdk-x402 can switch (no ${expected} rule): is it a web ACL created by cdk-x402?`, []);
  }
  const changes: RuleChange[] = [];
  const rules = (acl.Rules ?? []).map((rule) => {
    const current = state.switches.find((s) => s.name === rule.Name);
    if (!current || current.charging === (to === 'on')) return rule;
    const next = switched(rule, current, to);
    changes.push({ rule: rule.Name!, from: actionSummary(rule), to: actionSummary(next) });
    return next;
  });
  return { state, changes, rules };
}

function switched(rule: Rule, current: SwitchRule, to: ChargingSwitch): Rule {
  if (current.kind === 'monetize') {
    const labels = (rule.RuleLabels ?? []).filter((l) => !l.Name?.startsWith(PAUSED_MULTIPLIER_LABEL_PREFIX));
    if (to === 'on') {
      const { RuleLabels: _dropped, ...rest } = rule;
      return { ...rest, ...(labels.length > 0 ? { RuleLabels: labels } : {}), Action: { Monetize: { PriceMultiplier: current.multiplier } } };
    }
    return { ...rule, Action: { Count: {} }, RuleLabels: [...labels, { Name: `${PAUSED_MULTIPLIER_LABEL_PREFIX}${current.multiplier}` }] };
  }
  return to === 'on'
    ? { ...rule, Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: ELIGIBILITY_HEADER_INSERT_NAME, Value: 'true' }] } } } }
    : { ...rule, Action: { Count: {} } };
}

/** A rule's action in a few words, for the diff. */
export function actionSummary(rule: Rule): string {
  const action = rule.Action ?? {};
  if (action.Monetize) return `Monetize ×${action.Monetize.PriceMultiplier ?? '1'} (charging)`;
  if (action.Count) {
    const paused = pausedMultipliers(rule);
    if (paused.length > 0) return `Count (not charging; ×${paused[0]} kept in label ${PAUSED_MULTIPLIER_LABEL_PREFIX}${paused[0]})`;
    const inserts = action.Count.CustomRequestHandling?.InsertHeaders ?? [];
    if (rule.Name === RuleNames.eligible) {
      return inserts.length > 0
        ? `Count + insert ${WAF_INSERTED_HEADER_PREFIX}${inserts[0].Name}: ${inserts[0].Value} (payment asked)`
        : 'Count, no header inserted (nobody asked to pay)';
    }
    return 'Count';
  }
  return Object.keys(action).join('+') || (rule.OverrideAction ? 'override' : 'none');
}

/** Fields of a WebACL that UpdateWebACL takes back. Every other field of the update is given explicitly. */
const CARRIED = [
  'Name', 'Id', 'DefaultAction', 'Description', 'Rules', 'VisibilityConfig', 'DataProtectionConfig', 'CustomResponseBodies',
  'CaptchaConfig', 'ChallengeConfig', 'TokenDomains', 'AssociationConfig', 'OnSourceDDoSProtectionConfig', 'ApplicationConfig',
  'MonetizationConfig',
] as const satisfies ReadonlyArray<keyof UpdateWebACLRequest & keyof WebACL>;

// UpdateWebACL replaces the whole web ACL: a field it takes that is not carried over would be
// reset. This fails to compile when the SDK adds one that CARRIED does not list.
type NotCarried = Exclude<keyof UpdateWebACLRequest, (typeof CARRIED)[number] | 'Scope' | 'LockToken'>;
const everyFieldCarried: [NotCarried] extends [never] ? true : NotCarried = true;
void everyFieldCarried;

/** UpdateWebACL's input: the web ACL as read, with `rules`, under the lock token of that read. */
export function updateRequest(acl: WebACL, lockToken: string, rules: readonly Rule[]): UpdateWebACLRequest {
  const request: Record<string, unknown> = { Scope: 'CLOUDFRONT', LockToken: lockToken };
  for (const field of CARRIED) if (acl[field] !== undefined) request[field] = acl[field];
  request.Rules = [...rules];
  return request as unknown as UpdateWebACLRequest;
}
