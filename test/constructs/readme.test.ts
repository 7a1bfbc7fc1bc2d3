/**
 * The README and docs/ stay true to the code: the configuration reference is the schema's table,
 * every cdk command line in the docs passes synth-time validation, every cdk-x402 command line uses
 * commands and options the CLI has (and docs/cli.md names them all), and every relative link lands.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildProgram, defaultDeps } from '../../cli/program';
import { toChecksumAddress } from '../../lib/config/address';
import { settingsFromContext } from '../../lib/config/context';
import { CONTEXT_KEYS, contextKeysMarkdown } from '../../lib/config/context-keys';
import { resolveReferenceStackSettings } from '../../lib/config/reference';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const cdkJsonContext = JSON.parse(read('cdk.json')).context as Record<string, unknown>;

/** The placeholder the docs write for the reader's wallet, replaced by a checksummed address that is no sample. */
const PAY_TO_PLACEHOLDER = '0xYourChecksummedAddress';
const someWallet = toChecksumAddress(`0x${'5e'.repeat(20)}`);

function codeBlocks(file: string): Array<{ lang: string; body: string }> {
  return [...read(file).matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map(([, lang, body]) => ({ lang, body }));
}

/** Shell lines of a block, continuation lines joined. */
function shellLines(body: string): string[] {
  return body.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** POSIX-shell words of a line (quotes and backslashes), up to a comment. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let started = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (c === '\\') {
      word += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started || word !== '') words.push(word);
      word = '';
      started = false;
    } else if (c === '#' && word === '' && !started) {
      break;
    } else word += c;
  }
  if (started || word !== '') words.push(word);
  return words;
}

/**
 * Every command line of the docs' shell blocks that starts with `prefix`, with the `$ ` lines of
 * their output samples too when `withSamples` (some samples show a command that fails on purpose).
 */
function commandLines(prefix: string, withSamples: boolean): Array<{ file: string; words: string[] }> {
  const found: Array<{ file: string; words: string[] }> = [];
  for (const file of DOCS) {
    for (const { lang, body } of codeBlocks(file)) {
      const samples = withSamples ? shellLines(body).filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)) : [];
      const lines = lang === 'sh' ? shellLines(body) : samples;
      for (const line of lines) {
        const words = shellWords(line);
        if (words.slice(0, prefix.split(' ').length).join(' ') === prefix) found.push({ file, words });
      }
    }
  }
  return found;
}

describe('docs/configuration.md', () => {
  it('holds the configuration reference generated from the schema (regenerate with contextKeysMarkdown() when this fails)', () => {
    const match = /<!-- x402-config:start -->\n([\s\S]*?)\n<!-- x402-config:end -->/.exec(read('docs/configuration.md'));
    expect(match).not.toBeNull();
    expect(match![1].trim()).toBe(contextKeysMarkdown());
  });

  it('documents every key of cdk.json', () => {
    const documented = new Set(CONTEXT_KEYS.map((k) => k.key));
    for (const key of Object.keys(cdkJsonContext).filter((k) => k.startsWith('x402:'))) expect(documented).toContain(key);
  });
});

describe('cdk command lines in the README and docs/', () => {
  const commands = commandLines('npx cdk', false);

  it('are found', () => {
    expect(commands.length).toBeGreaterThan(10);
  });

  it.each(commands.map((c) => [c.file, c.words.join(' '), c.words] as const))('%s: `%s` passes the synth-time validation with the context of cdk.json', (_file, _line, words) => {
    const context: Record<string, unknown> = Object.fromEntries(Object.entries(cdkJsonContext).filter(([k]) => k.startsWith('x402:')));
    words.forEach((word, i) => {
      if (word !== '-c' && word !== '--context') return;
      const [key, ...rest] = words[i + 1].split('=');
      context[key] = rest.join('=').replace(PAY_TO_PLACEHOLDER, someWallet);
    });
    expect(() => resolveReferenceStackSettings(settingsFromContext(context))).not.toThrow();
  });

  it('and the JSON samples of docs/configuration.md (cdk.json files, and routes) pass it too', () => {
    const samples = codeBlocks('docs/configuration.md').filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body.replace(PAY_TO_PLACEHOLDER, someWallet)) as Record<string, unknown>);
    const isRoutes = (sample: Record<string, unknown>) => Object.keys(sample).every((key) => /^([A-Z]+ )?\//.test(key));
    expect(samples.filter((s) => 'context' in s).length).toBeGreaterThan(0);
    expect(samples.filter(isRoutes).length).toBeGreaterThan(1);
    for (const sample of samples) {
      const context = isRoutes(sample)
        ? { ...cdkJsonContext, 'x402:origin': 'origin.example.com', 'x402:payTo': someWallet, 'x402:routes': sample }
        : (sample.context as Record<string, unknown>);
      expect(() => resolveReferenceStackSettings(settingsFromContext(context))).not.toThrow();
    }
  });
});

describe('the cdk-x402 CLI in the docs', () => {
  const program = buildProgram(defaultDeps(), () => undefined);
  // Subcommands (`pass-key create`) by their full name.
  const commands = new Map(program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands.map((sub) => [`${c.name()} ${sub.name()}`, sub] as const) : [[c.name(), c] as const])));
  const optionsOf = (name: string) => new Set(['--help', '-h', ...(commands.get(name)?.options ?? []).flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined)]);

  it('docs/cli.md names every command and every option', () => {
    const cliDoc = read('docs/cli.md');
    for (const [name, command] of commands) {
      expect(cliDoc).toContain(`cdk-x402 ${name}`);
      for (const option of command.options) expect(cliDoc).toContain(`\`${option.long}`);
    }
  });

  const lines = commandLines('npx cdk-x402', true);
  it('command lines are found', () => {
    expect(lines.length).toBeGreaterThan(10);
  });

  it.each(lines.map((l) => [l.file, l.words.join(' '), l.words.slice(2)] as const))('%s: `%s` uses a command and options the CLI has', (_file, _line, words) => {
    if (words[0] === '--help' || words[0] === '--version' || words[0] === '-V') return;
    const name = commands.has(words[0]) ? words[0] : `${words[0]} ${words[1]}`;
    expect([...commands.keys()]).toContain(name);
    const known = optionsOf(name);
    for (const word of words.slice(name.split(' ').length).filter((w) => w.startsWith('-'))) expect(known).toContain(word.split('=')[0]);
  });
});

describe('the README', () => {
  it('starts with a quickstart of exactly two commands: the demo and the tests, each an npm script', () => {
    const quickstart = /## Quickstart\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(read('README.md'));
    expect(quickstart).not.toBeNull();
    const lines = shellLines(quickstart![1]).map((l) => shellWords(l).join(' '));
    expect(lines).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(Object.keys(scripts)).toEqual(expect.arrayContaining(['demo', 'test']));
  });

  it('stays a short front page', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(130);
  });
});

describe('relative links in the README and docs/', () => {
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
  const anchorsOf = (file: string) =>
    new Set([...read(file).replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
      heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'),
    ));
  const links = DOCS.flatMap((file) =>
    [...read(file).matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => [file, target] as const).filter(([, target]) => !/^[a-z]+:/.test(target)),
  );

  it.each(links)('%s → %s lands on a file and heading that exist', (file, target) => {
    const [relative, anchor] = target.split('#');
    const linked = relative === '' ? file : path.normalize(path.join(path.dirname(file), relative));
    expect(() => read(linked)).not.toThrow();
    if (anchor) expect(anchorsOf(linked)).toContain(anchor);
  });
});
