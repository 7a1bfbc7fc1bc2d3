import { oneLine, reasonCode } from '../../lambda/core/rejection';

describe('reasonCode', () => {
  it('keeps a facilitator reason code', () => {
    expect(reasonCode('invalid_exact_evm_insufficient_balance', 'settlement_failed')).toBe('invalid_exact_evm_insufficient_balance');
  });

  it.each([undefined, '', 'Error: execution reverted\n  at call (rpc)', 'x'.repeat(200), 'Invalid_Reason'])('replaces %p, which is no code, by the fallback', (raw) => {
    expect(reasonCode(raw, 'settlement_failed')).toBe('settlement_failed');
  });
});

describe('oneLine', () => {
  it('folds whitespace and bounds the length of untrusted text', () => {
    expect(oneLine('a\n  b\tc')).toBe('a b c');
    const long = oneLine('word '.repeat(200));
    expect(long.length).toBe(300);
    expect(long.endsWith('…')).toBe(true);
  });
});
