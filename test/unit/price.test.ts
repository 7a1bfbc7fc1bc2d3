import { convertToTokenAmount } from '@x402/core/utils';
import fc from 'fast-check';
import { formatAtomicUnits, priceToAtomicUnits } from '../../lambda/core/price';

describe('priceToAtomicUnits', () => {
  it.each([
    ['$0.001', 6, '1000'],
    ['$1', 6, '1000000'],
    ['$0.000001', 6, '1'],
    ['$12.345678', 6, '12345678'],
    ['$0.1', 18, '100000000000000000'],
    ['$123456789.99', 6, '123456789990000'],
    ['2500', 6, '2500'],
    [' $0.01 ', 6, '10000'],
  ])('converts %s with %i decimals to %s atomic units exactly', (price, decimals, expected) => {
    expect(priceToAtomicUnits(price, decimals)).toEqual({ amount: expected });
  });

  it('has no floating point error where binary floats have one', () => {
    // 0.1 + 0.2 style values: 0.29 * 1e6 is 290000.00000000006 in floating point.
    expect(priceToAtomicUnits('$0.29', 6)).toEqual({ amount: '290000' });
    expect(priceToAtomicUnits('$4.35', 6)).toEqual({ amount: '4350000' });
  });

  it.each([
    ['$0.0000001', /7 decimals but the asset has only 6/],
    ['$0', /zero/],
    ['0', /zero/],
    ['$-1', /not "\$<dollars>"/],
    ['1e3', /not "\$<dollars>"/],
    ['$1,000', /not "\$<dollars>"/],
    ['0.001', /not "\$<dollars>"/],
    ['', /not "\$<dollars>"/],
  ])('refuses %p with a message naming the problem', (price, message) => {
    const result = priceToAtomicUnits(price, 6);
    expect('error' in result && result.error).toMatch(message);
  });
});

describe('formatAtomicUnits', () => {
  it.each([
    ['1000', 6, '0.001'],
    ['1', 6, '0.000001'],
    ['12345678', 6, '12.345678'],
    ['1000000', 6, '1'],
    ['0', 6, '0'],
  ])('formats %s with %i decimals as %s', (amount, decimals, expected) => {
    expect(formatAtomicUnits(amount, decimals)).toBe(expected);
  });
});

describe('priceToAtomicUnits against @x402/core', () => {
  it('converts every dollar amount exactly as convertToTokenAmount of the official x402 packages does', () => {
    const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const amounts = fc.integer({ min: 0, max: 36 }).chain((decimals) => fc.record({ decimals: fc.constant(decimals), whole: digits(1, 40), fraction: digits(0, decimals) }));
    fc.assert(
      fc.property(amounts, ({ decimals, whole, fraction }) => {
        const decimal = fraction ? `${whole}.${fraction}` : whole;
        const expected = convertToTokenAmount(decimal, decimals);
        const result = priceToAtomicUnits(`$${decimal}`, decimals);
        expect(result).toEqual(expected === '0' ? { error: expect.stringMatching(/is zero/) } : { amount: expected });
      }),
      { numRuns: 5000 },
    );
  });
});
