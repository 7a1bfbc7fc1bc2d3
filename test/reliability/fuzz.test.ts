/**
 * Property-based fuzzing (fast-check) of everything that reads untrusted input: the header
 * decoders, the path canonicalizer and route matcher, the price parser, and the whole viewer
 * request path. None may throw; the paywall answers only 400, 402 or a deliberate 405/429/503, and never
 * forwards a priced request without a payment whose signed terms are exactly the offered ones.
 */
import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import fc from 'fast-check';
import { getAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeHandoff, encodeHandoff, PENDING_SETTLEMENT_HEADER, type Handoff } from '../../lambda/core/handoff';
import { decodePaymentHeader, findPaymentHeader, parseStoredPayment } from '../../lambda/core/payment-header';
import { Paywall, type PaywallPorts } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { priceToAtomicUnits } from '../../lambda/core/price';
import { isRejection } from '../../lambda/core/rejection';
import { routeTerms } from '../../lambda/core/requirements';
import { canonicalPath, compileRoutes, matchRoute, originPath, routePatternError } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';
import { forgeExact, v1Payload, v2Payload } from './support/forge';
import { Ledger } from './support/ledger';

const ledger = new Ledger('fuzz');
afterAll(() => expect(ledger.close()).toEqual([]));

const RUNS = 300;
const config = testEdgeConfig();
const routes = compileRoutes(config);
const payer = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b4690d1');
let validV2: PaymentPayload;
let validV1: unknown;

beforeAll(async () => {
  const requirements = routeTerms(routes[0], config).requirements as PaymentRequirements;
  const exact = await forgeExact(payer, requirements);
  validV2 = v2Payload(requirements, exact);
  validV1 = v1Payload(exact);
});

/** Counts every property run in the ledger. */
function check<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => boolean | void, runs = RUNS): void {
  ledger.tried(runs);
  fc.assert(fc.property(arb, predicate), { numRuns: runs });
}
function checkAsync<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => Promise<boolean | void>, runs = RUNS): Promise<void> {
  ledger.tried(runs);
  return fc.assert(fc.asyncProperty(arb, predicate), { numRuns: runs });
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** A JSON value somewhere inside a valid payload replaced by anything. */
function mutated(base: () => unknown): fc.Arbitrary<unknown> {
  return fc.tuple(fc.nat(), fc.jsonValue()).map(([pick, replacement]) => {
    const copy = JSON.parse(JSON.stringify(base()));
    const slots: Array<[Record<string, unknown>, string]> = [];
    const walk = (node: unknown) => {
      if (node && typeof node === 'object') {
        for (const key of Object.keys(node)) {
          slots.push([node as Record<string, unknown>, key]);
          walk((node as Record<string, unknown>)[key]);
        }
      }
    };
    walk(copy);
    const [parent, key] = slots[pick % slots.length];
    parent[key] = replacement;
    return copy;
  });
}
const headerValues = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.base64String(),
    fc.jsonValue().map((v) => b64(JSON.stringify(v))),
    mutated(() => validV2).map((p) => b64(JSON.stringify(p))),
    mutated(() => validV1).map((p) => b64(JSON.stringify(p))),
    fc.constant(b64(JSON.stringify(validV2)).slice(0, 200)),
    fc.string({ minLength: 8000, maxLength: 9000 }),
  );

describe('header decoders never throw', () => {
  it('decodePaymentHeader returns a payment or a 400 for any value, either version', () => {
    check(fc.tuple(fc.constantFrom<1 | 2>(1, 2), headerValues()), ([version, value]) => {
      const decoded = decodePaymentHeader(version, value);
      if (isRejection(decoded)) return decoded.status === 400 && /^[a-z][a-z0-9_]*$/.test(decoded.reason);
      return decoded.x402Version === version;
    });
  });

  it('findPaymentHeader takes any headers and refuses two payment headers', () => {
    check(fc.dictionary(fc.constantFrom('payment-signature', 'x-payment', 'other', 'x-x402-pending-settlement'), fc.string()), (headers) => {
      const found = findPaymentHeader((name) => headers[name]);
      if ('payment-signature' in headers && 'x-payment' in headers) return isRejection(found) && found.status === 400;
      if (found === undefined) return !('payment-signature' in headers) && !('x-payment' in headers);
      return !isRejection(found);
    });
  });

  it('decodeHandoff returns a well-formed hand-off or undefined', () => {
    const anyHandoff = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      mutated(() => ({ kind: 'settle', paymentId: 'p', routeIndex: 0, resource: 'r' })).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      mutated(() => ({ kind: 'batch', routeIndex: 0, resource: 'r', channelId: '0x1', reservationId: 'abcdefgh', payer: '0x2' })).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      mutated(() => ({ kind: 'redeliver', paymentId: 'p', routeIndex: 1, resource: 'r', payer: 'x', txHash: '0x1', x402Version: 2 })).map((v) =>
        Buffer.from(JSON.stringify(v)).toString('base64url'),
      ),
    );
    check(anyHandoff, (value) => {
      const decoded = decodeHandoff(value);
      if (decoded === undefined) return true;
      if (!Number.isInteger(decoded.routeIndex) || decoded.routeIndex < 0) return false;
      if (decoded.kind === 'free') return true;
      if (decoded.kind === 'pass') return decoded.passId !== '' && decoded.payer !== '';
      if (decoded.kind === 'batch') return [decoded.resource, decoded.channelId, decoded.reservationId, decoded.payer].every((v) => typeof v === 'string' && v !== '');
      return typeof decoded.paymentId === 'string' && decoded.paymentId !== '' && typeof decoded.resource === 'string';
    });
  });

  it('decodeHandoff reads back what encodeHandoff wrote', () => {
    const handoffs: fc.Arbitrary<Handoff> = fc.oneof(
      fc.record({ kind: fc.constant('free' as const), routeIndex: fc.nat() }),
      fc.record({ kind: fc.constant('pass' as const), routeIndex: fc.nat(), passId: fc.string({ minLength: 1 }), payer: fc.string({ minLength: 1 }) }),
      fc.record({ kind: fc.constant('settle' as const), paymentId: fc.string({ minLength: 1 }), routeIndex: fc.nat(), resource: fc.string({ minLength: 1 }) }),
      fc.record({
        kind: fc.constant('batch' as const),
        routeIndex: fc.nat(),
        resource: fc.string({ minLength: 1 }),
        channelId: fc.string({ minLength: 1 }),
        reservationId: fc.string({ minLength: 1 }),
        payer: fc.string({ minLength: 1 }),
      }),
      fc.record({
        kind: fc.constant('redeliver' as const),
        paymentId: fc.string({ minLength: 1 }),
        routeIndex: fc.nat(),
        resource: fc.string({ minLength: 1 }),
        payer: fc.string({ minLength: 1 }),
        txHash: fc.string({ minLength: 1 }),
        x402Version: fc.constantFrom(1, 2),
      }),
    );
    check(handoffs, (handoff) => {
      expect(decodeHandoff(encodeHandoff(handoff))).toEqual(handoff);
    });
  });
});

/** Paths built from route-like pieces, escapes, dots, slashes and arbitrary text. */
const paths = (): fc.Arbitrary<string> => {
  const piece = fc.oneof(
    fc.constantFrom('articles', 'ARTICLES', 'api', 'premium-report', 'a', '..', '.', '', '%2e%2e', '%2f', '%252f', '%3f', '%23', '%00', '%zz', '%', '\\', ';x', '%E2%82%AC', 'é', ' '),
    fc.string({ maxLength: 6 }),
  );
  return fc.oneof(
    fc.array(piece, { maxLength: 6 }).map((parts) => '/' + parts.join('/')),
    fc.tuple(fc.array(piece, { maxLength: 6 }), fc.constantFrom('', '/', '//')).map(([parts, tail]) => '/' + parts.join('/') + tail),
    fc.webPath(),
    fc.string(),
  );
};

describe('path canonicalization and route matching', () => {
  it('canonicalPath never throws and yields a clean absolute path or undefined', () => {
    check(paths(), (raw) => {
      const path = canonicalPath(raw);
      if (path === undefined) return true;
      return path.startsWith('/') && !/[\u0000-\u001f\u007f]/.test(path) && !/%[0-9a-f]{2}/i.test(path) && !path.split('/').some((s) => s === '.' || s === '..') && !path.includes('//');
    }, 1000);
  });

  it('the path forwarded to the origin decodes to exactly the path that was priced', () => {
    check(paths(), (raw) => {
      const path = canonicalPath(raw);
      if (path === undefined) return true;
      const forwarded = originPath(path);
      const url = new URL(`http://origin${forwarded}`);
      return canonicalPath(forwarded) === path && url.search === '' && url.hash === '' && /^[\x21-\x7e]*$/.test(forwarded);
    }, 1000);
  });

  it('matchRoute never throws and a trailing slash never changes the price', () => {
    check(fc.tuple(fc.constantFrom('GET', 'HEAD', 'POST', 'get', 'OPTIONS', 'BREW'), paths()), ([method, raw]) => {
      const path = canonicalPath(raw);
      if (path === undefined) return true;
      const match = matchRoute(routes, method, path);
      const trimmed = path.length > 1 ? path.replace(/\/$/, '') : path;
      const inRange = match.kind !== 'priced' || (match.index >= 0 && match.index < routes.length);
      return inRange && JSON.stringify(matchRoute(routes, method, trimmed)) === JSON.stringify(match) && JSON.stringify(matchRoute(routes, method, trimmed + '/')) === JSON.stringify(match);
    }, 1000);
  });

  it('routePatternError never throws, and every pattern it accepts compiles', () => {
    const patterns = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom('', 'GET ', 'POST ', 'FETCH ', 'get '), paths(), fc.constantFrom('', '/*', '/**', '/***')).map(([m, p, w]) => m + p + w),
    );
    check(patterns, (pattern) => {
      const problem = routePatternError(pattern);
      if (problem !== undefined) return typeof problem === 'string';
      expect(() => compileRoutes({ ...config, routes: [{ pattern, price: '1' }] })).not.toThrow();
      return true;
    });
  });
});

describe('priceToAtomicUnits', () => {
  it('never throws; amounts are positive integers', () => {
    const prices = fc.oneof(fc.string(), fc.bigInt({ min: -10n, max: 10n ** 30n }).map(String), fc.tuple(fc.nat(), fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 9 })).map(([d, f]) => `$${d}.${f}`));
    check(fc.tuple(prices, fc.integer({ min: 0, max: 18 })), ([price, decimals]) => {
      const result = priceToAtomicUnits(price, decimals);
      return 'error' in result ? typeof result.error === 'string' : /^[1-9]\d*$/.test(result.amount);
    }, 1000);
  });

  it('converts dollars exactly, with string arithmetic', () => {
    check(fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 6 })), ([dollars, fraction]) => {
      const result = priceToAtomicUnits(`$${dollars}.${fraction}`, 6);
      const expected = dollars * 10n ** 6n + BigInt(fraction.padEnd(6, '0'));
      return expected === 0n ? 'error' in result : 'amount' in result && result.amount === expected.toString();
    }, 1000);
  });
});

describe('Paywall.onViewerRequest with arbitrary requests', () => {
  type Mode = 'healthy' | 'facilitatorDown' | 'storeDown';
  /** A facilitator that approves everything: only our own checks stand between input and content. */
  function paywall(mode: Mode): { paywall: Paywall; receipts: MemoryReceipts } {
    const receipts = new MemoryReceipts();
    receipts.failing = mode === 'storeDown';
    const ports: PaywallPorts = {
      facilitator: {
        verify: async (payload) => {
          if (mode === 'facilitatorDown') throw new Error('facilitator unreachable');
          return { isValid: true, payer: (payload.payload as { authorization?: { from?: string } }).authorization?.from };
        },
        settle: async () => {
          throw new Error('not on the viewer path');
        },
      },
      receipts,
      clock: Date.now,
      log: () => undefined,
    };
    return { paywall: new Paywall(config, ports, new ExactEvmPrecheck(config)), receipts };
  }
  const walls = { healthy: paywall('healthy'), facilitatorDown: paywall('facilitatorDown'), storeDown: paywall('storeDown') };

  const requests = () =>
    fc.record({
      mode: fc.constantFrom<Mode>('healthy', 'healthy', 'facilitatorDown', 'storeDown'),
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'get', ''),
      uri: fc.oneof(paths(), fc.constantFrom('/articles/x', '/api/premium-report', '/api/v1/x', '/ARTICLES/x/')),
      headers: fc.dictionary(
        fc.oneof(fc.constantFrom('payment-signature', 'x-payment', config.eligibilityHeader, PENDING_SETTLEMENT_HEADER, 'user-agent'), fc.string({ maxLength: 20 })),
        fc.oneof(
          headerValues(),
          fc.constant('true'),
          fc.constant(encodePaymentSignatureHeader(validV2)),
          fc.constant(b64(JSON.stringify(validV1))),
        ),
        { maxKeys: 5 },
      ),
    });

  it('never throws, answers only 400/402/deliberate 405/429/503, and forwards a priced request only with the signed terms', async () => {
    await checkAsync(requests(), async ({ mode, method, uri, headers }) => {
      const { paywall: wall, receipts } = walls[mode];
      // Each run starts from an empty table: a payment the previous run reserved would be a replay.
      receipts.rows.clear();
      const outcome = await wall.onViewerRequest({ method, uri, host: 'example.com', header: (name) => headers[name] });
      if (outcome.kind === 'respond') {
        const { status, body } = outcome.response;
        const reason = JSON.parse(body).error as string;
        if (status === 503) return (mode === 'facilitatorDown' && reason === 'facilitator_unavailable') || (mode === 'storeDown' && reason === 'receipt_store_unavailable');
        // 405: a method the path is not priced for; 429: too many signatures only the chain can check.
        if (status === 405) return reason === 'method_not_allowed' && canonicalPath(uri) !== undefined && matchRoute(routes, method, canonicalPath(uri)!).kind === 'methodNotAllowed';
        if (status === 429) return reason === 'too_many_smart_wallet_checks';
        return status === 400 || status === 402;
      }
      const path = canonicalPath(uri);
      const priced = path !== undefined && matchRoute(routes, method, path).kind === 'priced';
      if (outcome.kind === 'pass') return true;
      const handoff = decodeHandoff(outcome.setHeaders[PENDING_SETTLEMENT_HEADER] ?? '');
      // Not eligible: forwarded as received, marked free so that origin-response knows it was decided.
      if (handoff?.kind === 'free') return priced && outcome.uri === uri && headers[config.eligibilityHeader] !== 'true' && findPaymentHeader((n) => headers[n]) === undefined;
      if (outcome.uri !== originPath(path!)) return false;
      if (!priced) return handoff === undefined;
      // Forwarded on a priced route: only the genuinely signed authorization gets here, unchanged in substance.
      const stored = handoff?.kind === 'settle' ? receipts.rows.get(handoff.paymentId)?.payment : undefined;
      const payment = stored === undefined ? undefined : parseStoredPayment(stored);
      const auth = (payment?.payload.payload as { authorization?: Record<string, string> } | undefined)?.authorization;
      const original = (validV2.payload as { authorization: Record<string, string> }).authorization;
      const genuine =
        mode === 'healthy' &&
        JSON.stringify(matchRoute(routes, method, path!)) === JSON.stringify({ kind: 'priced', index: 0 }) &&
        auth !== undefined &&
        getAddress(auth.from) === getAddress(original.from) &&
        getAddress(auth.to) === getAddress(original.to) &&
        BigInt(auth.value) === BigInt(original.value) &&
        BigInt(auth.validAfter) === BigInt(original.validAfter) &&
        BigInt(auth.validBefore) === BigInt(original.validBefore) &&
        auth.nonce.toLowerCase() === original.nonce.toLowerCase();
      if (!genuine) ledger.violation('servedUnpaid', `forwarded ${method} ${uri} with ${JSON.stringify(headers).slice(0, 300)}`);
      return genuine;
    }, 1500);
  });
});
