/**
 * Exact comparison of two route path patterns: which paths both match, and which only one does.
 * Patterns are regular languages (`*` = [^/]*, `**` = .*), so the answer is exact: a
 * breadth-first walk over the pair of subset-constructed automata. Used by lib/config/routes.ts to
 * refuse shadowed and partially overlapping routes at synth time, and (waf engine) method-specific
 * routes whose other methods a later route would sell.
 */

type GlobToken = { readonly kind: 'char'; readonly char: string } | { readonly kind: 'star' } | { readonly kind: 'globstar' };

/**
 * Trailing slashes are dropped, as in lambda/core/routes.ts (`/a/` is the page `/a`). The optional
 * trailing slash the edge accepts is left out of the analysis on purpose: `/a` and `/a/**` share
 * only `/a/`, which first-match precedence settles, and flagging it would forbid a common setup.
 */
function tokenize(pattern: string): GlobToken[] {
  const glob = pattern.replace(/\/+$/, '');
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*' && glob[i + 1] === '*') {
      tokens.push({ kind: 'globstar' });
      i++;
    } else if (glob[i] === '*') tokens.push({ kind: 'star' });
    else tokens.push({ kind: 'char', char: glob[i] });
  }
  return tokens;
}

/** NFA states reachable from `states` without consuming input (stars may match nothing). */
function closure(tokens: GlobToken[], states: Iterable<number>): Set<number> {
  const out = new Set<number>();
  const stack = [...states];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (out.has(s)) continue;
    out.add(s);
    if (s < tokens.length && tokens[s].kind !== 'char') stack.push(s + 1);
  }
  return out;
}

function step(tokens: GlobToken[], states: Set<number>, symbol: string): Set<number> {
  const next: number[] = [];
  for (const s of states) {
    if (s >= tokens.length) continue;
    const t = tokens[s];
    if (t.kind === 'char' && t.char === symbol) next.push(s + 1);
    else if (t.kind === 'globstar' || (t.kind === 'star' && symbol !== '/')) next.push(s);
  }
  return closure(tokens, next);
}

export interface PairAnalysis {
  /** A path both match, if any. */
  readonly both?: string;
  /** A path only `a` matches, if any. */
  readonly onlyA?: string;
  /** A path only `b` matches, if any. */
  readonly onlyB?: string;
}

export function analyzePaths(a: string, b: string): PairAnalysis {
  const ta = tokenize(a);
  const tb = tokenize(b);
  const literals = new Set<string>(['/']);
  for (const t of [...ta, ...tb]) if (t.kind === 'char') literals.add(t.char);
  // One symbol stands for every character neither pattern names (they all behave alike).
  const other = [...'xqzjkv0123456789abcdefghilmnoprstuwy'].find((c) => !literals.has(c)) ?? '~';
  const alphabet = [...literals, other];
  const key = (sa: Set<number>, sb: Set<number>) => `${[...sa].sort().join(',')}|${[...sb].sort().join(',')}`;
  const start = { sa: closure(ta, [0]), sb: closure(tb, [0]), path: '' };
  const seen = new Set([key(start.sa, start.sb)]);
  const queue = [start];
  let both: string | undefined;
  let onlyA: string | undefined;
  let onlyB: string | undefined;
  while (queue.length > 0 && (both === undefined || onlyA === undefined || onlyB === undefined)) {
    const { sa, sb, path } = queue.shift()!;
    const inA = sa.has(ta.length);
    const inB = sb.has(tb.length);
    if (inA && inB) both ??= path;
    if (inA && !inB) onlyA ??= path;
    if (inB && !inA) onlyB ??= path;
    for (const symbol of alphabet) {
      const na = step(ta, sa, symbol);
      const nb = step(tb, sb, symbol);
      if (na.size === 0 && nb.size === 0) continue;
      const k = key(na, nb);
      if (seen.has(k)) continue;
      seen.add(k);
      queue.push({ sa: na, sb: nb, path: path + symbol });
    }
  }
  return { both, onlyA, onlyB };
}
