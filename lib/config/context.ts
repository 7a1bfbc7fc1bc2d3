/** CDK context → settings: the `x402:*` keys parsed by the kinds of the context-key table. */
import type { PricedRoute } from '../../lambda/core/config';
import { agentList } from './agents';
import { CONTEXT_KEYS, type ContextKeySpec } from './context-keys';
import { Problems } from './problems';
import type { ReferenceStackSettings } from './settings';

/**
 * Reads the `x402:*` keys of a CDK context (`app.node.getAllContext()`): strings from `-c` are
 * parsed (numbers, JSON objects, JSON arrays or comma-separated lists), cdk.json values taken as
 * they are, and `x402:routes` in its object form (pattern → price or {price, ...}) becomes the
 * list of routes the props take. Unknown `x402:*` keys are errors (a typo must not silently drop a
 * setting). Values are checked later, with the props (resolve.ts), so a missing or bad value is
 * reported with every other problem; the result is settings as far as the context gave them.
 */
export function settingsFromContext(context: Readonly<Record<string, unknown>>): ReferenceStackSettings {
  const problems = new Problems();
  const settings: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(context)) {
    if (!key.startsWith('x402:')) continue;
    const spec = CONTEXT_KEYS.find((s) => s.key === key);
    if (!spec) {
      const near = closestKey(key);
      problems.add(key, raw, 'is not a cdk-x402 setting', near ? `did you mean ${near}?` : `use one of ${CONTEXT_KEYS.map((s) => s.key).join(', ')}`);
      continue;
    }
    if (raw === undefined || raw === null || raw === '') continue;
    const value = parseContextValue(spec, raw, problems);
    if (value !== undefined) settings[spec.prop] = spec.kind === 'routes' ? routeList(value as object) : spec.kind === 'passes' ? namedList(value as object) : spec.kind === 'agents' ? agentList(value as object) : value;
  }
  problems.throwIfAny();
  return settings as unknown as ReferenceStackSettings;
}

/**
 * The object form of `x402:routes` as the list the props take, in the object's order (a list is
 * taken as it is). A value that is neither a price nor an object stays the route's price, so the
 * resolver's message shows it as written.
 */
export function routeList(value: object): PricedRoute[] {
  if (Array.isArray(value)) return value;
  return Object.entries(value).map(([pattern, route]) =>
    typeof route === 'object' && route !== null && !Array.isArray(route) ? { ...route, pattern } : { pattern, price: route },
  );
}

/** The object form of `x402:passes` (name → offer) as the list the props take; a list is taken as it is. */
export function namedList(value: object): unknown[] {
  if (Array.isArray(value)) return value;
  return Object.entries(value).map(([name, offer]) => (typeof offer === 'object' && offer !== null && !Array.isArray(offer) ? { ...offer, name } : { name, price: offer }));
}

function parseContextValue(spec: ContextKeySpec, raw: unknown, problems: Problems): unknown {
  switch (spec.kind) {
    case 'string':
      if (typeof raw === 'string') return raw.trim();
      problems.add(spec.key, raw, 'must be a string', `write it as a string, e.g. -c ${spec.key}=${spec.default}`);
      return undefined;
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (Number.isSafeInteger(n)) return n;
      problems.add(spec.key, raw, 'must be an integer', `e.g. -c ${spec.key}=${/^\d+$/.test(spec.default) ? spec.default : '100'}`);
      return undefined;
    }
    case 'list': {
      let value = raw;
      if (typeof value === 'string') {
        const text = value.trim();
        if (text.startsWith('[')) value = parseJson(spec, text, problems);
        else return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      }
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v: string) => v.trim());
      if (value !== undefined) problems.add(spec.key, raw, 'must be a list of strings', `write a JSON array or a comma-separated list, e.g. -c ${spec.key}=${spec.default}`);
      return undefined;
    }
    case 'objects': {
      const value = typeof raw === 'string' ? parseJson(spec, raw.trim(), problems) : raw;
      if (value === undefined || Array.isArray(value)) return value;
      problems.add(spec.key, raw, 'must be a JSON array', 'paste the entries `cdk-x402 pass-key create` prints');
      return undefined;
    }
    case 'object':
    case 'passes':
    case 'agents':
    case 'routes': {
      const value = typeof raw === 'string' ? parseJson(spec, raw.trim(), problems) : raw;
      if (value === undefined) return undefined;
      if (typeof value === 'object' && value !== null && (spec.kind !== 'object' || !Array.isArray(value))) return value;
      problems.add(spec.key, raw, 'must be a JSON object', spec.kind === 'routes' ? `e.g. -c '${spec.key}={"/articles/*":"$0.001"}'` : 'see the configuration reference in the README');
      return undefined;
    }
  }
}

function parseJson(spec: ContextKeySpec, text: string, problems: Problems): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.add(spec.key, text, `is not valid JSON (${(error as Error).message})`, 'quote the whole value for your shell, e.g. -c \'x402:routes={"/articles/*":"$0.001"}\'');
    return undefined;
  }
}

function closestKey(key: string): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const spec of CONTEXT_KEYS) {
    const distance = levenshtein(key.toLowerCase(), spec.key.toLowerCase());
    if (!best || distance < best.distance) best = { key: spec.key, distance };
  }
  return best && best.distance <= 4 ? best.key : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
