/**
 * The package's public API is jsii-shaped: lib/index.ts exports only classes and enums (besides
 * types), the enum values are the context strings, and props written with enums synthesize exactly
 * what the context keys do.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as api from '../../lib';
import { BotControlInspectionLevel, CurrencyMode, Engine, OriginProtection, PaidCaching, PaymentVerifier, ReferenceStack, SettledReceipt, UnknownAgents, type ReferenceStackSettings } from '../../lib';
import { cdkJsonContext, PAY_TO, routes } from './helpers';

const ENUMS = { Engine, CurrencyMode, BotControlInspectionLevel, PaidCaching, OriginProtection, PaymentVerifier, UnknownAgents, SettledReceipt };

describe('the public API', () => {
  it('exports classes and enums only: no free functions, no plain constants', () => {
    const kinds = Object.entries(api).map(([name, value]) => {
      if (typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value))) return [name, 'class'];
      if (name in ENUMS) return [name, 'enum'];
      return [name, typeof value];
    });
    expect(kinds.filter(([, kind]) => kind !== 'class' && kind !== 'enum')).toEqual([]);
  });

  it('has enums whose values are the strings of the context keys', () => {
    expect(Object.values(Engine)).toEqual(['edge', 'waf']);
    expect(Object.values(CurrencyMode)).toEqual(['TEST', 'REAL']);
    expect(Object.values(BotControlInspectionLevel)).toEqual(['COMMON', 'TARGETED']);
    expect(Object.values(PaidCaching)).toEqual(['payment-keyed', 'disabled']);
    expect(Object.values(OriginProtection)).toEqual(['secret-header', 'none']);
    expect(Object.values(UnknownAgents)).toEqual(['ignore', 'verify']);
    expect(Object.values(SettledReceipt)).toEqual(['before-release', 'after-release']);
  });
});

/** The reference stack's template from context keys, and from props written with the enums. */
function templates(context: Record<string, string>, props: ReferenceStackSettings): [unknown, unknown] {
  const fromContext = new App({ context: { ...cdkJsonContext(), ...context } });
  const settings = ReferenceStack.settingsFromContext(fromContext.node.getAllContext());
  const a = new ReferenceStack(fromContext, 'Site', { settings, env: { region: 'us-east-1' } });
  const fromProps = new App({ context: cdkJsonContext() });
  const b = new ReferenceStack(fromProps, 'Site', { settings: props, env: { region: 'us-east-1' } });
  return [Template.fromStack(a).toJSON(), Template.fromStack(b).toJSON()];
}

describe('props written with enums synthesize what the context strings do', () => {
  const prices = { '/articles/*': '$0.001', 'GET /api/premium-report': '$0.01' };

  it('edge engine: TARGETED Bot Control, caching disabled, no origin protection', () => {
    const [fromContext, fromProps] = templates(
      {
        'x402:payTo': PAY_TO,
        'x402:engine': 'edge',
        'x402:botControlInspectionLevel': 'TARGETED',
        'x402:paidCaching': 'disabled',
        'x402:originProtection': 'none',
        'x402:routes': JSON.stringify(prices),
      },
      {
        payTo: PAY_TO,
        origin: 'example.com',
        engine: Engine.EDGE,
        botControlInspectionLevel: BotControlInspectionLevel.TARGETED,
        paidCaching: PaidCaching.DISABLED,
        originProtection: OriginProtection.NONE,
        routes: routes(prices),
      },
    );
    expect(fromProps).toEqual(fromContext);
  });

  it('waf engine in TEST mode, payment-keyed caching, secret-header protection', () => {
    const [fromContext, fromProps] = templates(
      {
        'x402:payTo': PAY_TO,
        'x402:engine': 'waf',
        'x402:currencyMode': 'TEST',
        'x402:paidCaching': 'payment-keyed',
        'x402:originProtection': 'secret-header',
        'x402:routes': JSON.stringify(prices),
      },
      {
        payTo: PAY_TO,
        origin: 'example.com',
        engine: Engine.WAF,
        currencyMode: CurrencyMode.TEST,
        paidCaching: PaidCaching.PAYMENT_KEYED,
        originProtection: OriginProtection.SECRET_HEADER,
        routes: routes(prices),
      },
    );
    expect(fromProps).toEqual(fromContext);
  });
});
