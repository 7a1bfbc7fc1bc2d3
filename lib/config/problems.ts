/**
 * Configuration problems: every check adds one (key, value, problem, fix), and synth fails once
 * with all of them, so a publisher fixes everything in one round.
 */

export interface ConfigProblem {
  /** The context key (`x402:payTo`); the construct prop has the same name without the prefix. */
  readonly key: string;
  readonly value: unknown;
  readonly problem: string;
  readonly fix: string;
}

/** Thrown at synth for invalid configuration: lists every problem, each with its fix. */
export class X402ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid cdk-x402 configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}; ` +
        'context key x402:<name> = construct prop <name>):\n' +
        problems.map((p) => `  - ${p.key} = ${show(p.value)}: ${sentence(p.problem)}\n    Fix: ${sentence(p.fix)}`).join('\n'),
    );
    this.name = 'X402ConfigError';
  }
}

function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

function show(value: unknown): string {
  if (value === undefined) return '(not set)';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export class Problems {
  readonly list: ConfigProblem[] = [];
  add(key: string, value: unknown, problem: string, fix: string): void {
    this.list.push({ key, value, problem, fix });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new X402ConfigError(this.list);
  }
}
