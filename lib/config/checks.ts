/** Checks of single values shared by the resolvers; each records a problem and returns a fallback. */
import type { Problems } from './problems';

/** A value of a string enum (whose values are the context strings), in declaration order in the message. */
export function oneOf<T extends string>(problems: Problems, key: string, value: unknown, values: Readonly<Record<string, T>>, fallback: T): T {
  if (value === undefined) return fallback;
  const allowed = Object.values(values);
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problems.add(key, value, `must be one of ${allowed.join(', ')}`, `e.g. -c ${key}=${fallback}`);
  return fallback;
}

export function intInRange(problems: Problems, key: string, value: unknown, fallback: number, min: number, max: number, why: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(key, value, `must be an integer from ${min} to ${max} (${why})`, `choose a value in ${min}..${max}`);
    return fallback;
  }
  return value;
}

export function nameList(problems: Problems, key: string, value: readonly string[], known: readonly string[], warnings: string[]): string[] {
  if (!Array.isArray(value)) {
    problems.add(key, value, 'must be a list of names', `e.g. -c ${key}=${known.slice(0, 2).join(',')}`);
    return [];
  }
  const out: string[] = [];
  for (const name of value) {
    if (typeof name !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(name)) {
      problems.add(key, name, 'is not a Bot Control label name', `use lower-case names as they appear in the labels: ${known.join(', ')}`);
    } else {
      if (!known.includes(name)) warnings.push(`${key}: "${name}" is not a Bot Control name known to cdk-x402 (${known.join(', ')}); check the spelling`);
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}
