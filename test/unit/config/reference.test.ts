import { resolveReferenceStackSettings } from '../../../lib/config/reference';
import { SETTINGS } from '../../constructs/helpers';

describe('reference stack settings', () => {
  it('requires an origin', () => {
    expect(() => resolveReferenceStackSettings({ ...SETTINGS, origin: undefined as never })).toThrow(/x402:origin = \(not set\): is required/);
  });

  it('refuses a URL where a domain name belongs, showing the fix', () => {
    expect(() => resolveReferenceStackSettings({ ...SETTINGS, origin: 'https://example.com/blog' })).toThrow(/x402:origin = "https:\/\/example.com\/blog": is not a domain name[\s\S]*-c x402:origin=example.com/);
  });

  it('merges its problems with the x402 ones', () => {
    expect(() => resolveReferenceStackSettings({ ...SETTINGS, origin: 'example.com', payTo: undefined as never, region: 'Europe' })).toThrow(/2 problems[\s\S]*x402:payTo[\s\S]*x402:region/);
  });
});
