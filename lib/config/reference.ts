/** The reference stack's own settings, validated with the x402 ones. */
import { DEFAULT_REFERENCE_REGION, DEFAULT_REFERENCE_STACK_NAME } from './context-keys';
import { Problems, X402ConfigError } from './problems';
import { resolveX402Config } from './resolve';
import type { ResolvedConfig } from './resolved';
import type { ReferenceStackSettings } from './settings';

export interface ReferenceStackConfig {
  readonly config: ResolvedConfig;
  readonly origin: string;
  readonly stackName: string;
  readonly region: string;
}

/** Validates the reference stack's settings and the x402 settings together: one error lists every problem. */
export function resolveReferenceStackSettings(settings: ReferenceStackSettings): ReferenceStackConfig {
  const problems = new Problems();
  let config: ResolvedConfig | undefined;
  try {
    config = resolveX402Config(settings);
  } catch (error) {
    if (!(error instanceof X402ConfigError)) throw error;
    problems.list.push(...error.problems);
  }
  const origin = settings.origin;
  if (origin === undefined || origin === '') {
    problems.add('x402:origin', origin, 'is required: the reference distribution needs an origin to put the paywall in front of', 'set the domain name of your site\'s origin, e.g. -c x402:origin=origin.example.com');
  } else if (typeof origin !== 'string' || !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(origin)) {
    problems.add('x402:origin', origin, 'is not a domain name', /^https?:\/\//i.test(String(origin)) ? `drop the scheme and path: -c x402:origin=${String(origin).replace(/^https?:\/\//i, '').split('/')[0]}` : 'e.g. -c x402:origin=origin.example.com');
  }
  const stackName = settings.stackName ?? DEFAULT_REFERENCE_STACK_NAME;
  if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,100}$/.test(stackName)) {
    problems.add('x402:stackName', stackName, 'is not a valid CloudFormation stack name', 'start with a letter; use letters, digits and hyphens (at most 101 characters)');
  }
  const region = settings.region ?? DEFAULT_REFERENCE_REGION;
  if (typeof region !== 'string' || !/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) {
    problems.add('x402:region', region, 'is not an AWS region', `e.g. -c x402:region=${DEFAULT_REFERENCE_REGION}`);
  }
  problems.throwIfAny();
  return { config: config!, origin: origin as string, stackName, region };
}

