/**
 * Converts a configured price into atomic units of the asset, as a decimal string.
 * `"$0.001"` is a USD amount of a USD stablecoin (1 token = $1); a bare integer (`"1000"`) is
 * already in atomic units. Integer arithmetic only (BigInt): no floating point ever touches money.
 * Returns an error message (string) for an invalid price; callers name the setting that held it.
 * No imports: the synth-time constructs validate prices with this same code.
 */
export function priceToAtomicUnits(price: string, decimals: number): { amount: string } | { error: string } {
  const trimmed = price.trim();
  if (/^\d+$/.test(trimmed)) {
    return BigInt(trimmed) > 0n
      ? { amount: BigInt(trimmed).toString() }
      : { error: `price "${price}" is zero: omit the route to make it free` };
  }
  const usd = /^\$(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!usd) {
    return { error: `price "${price}" is not "$<dollars>" (e.g. "$0.001") or an integer of atomic units (e.g. "1000")` };
  }
  const fraction = usd[2] ?? '';
  if (fraction.length > decimals) {
    return { error: `price "${price}" has ${fraction.length} decimals but the asset has only ${decimals}` };
  }
  // whole × 10^decimals + the fraction scaled to `decimals` digits.
  const amount = BigInt(usd[1]) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
  return amount === 0n ? { error: `price "${price}" is zero: omit the route to make it free` } : { amount: amount.toString() };
}

/** Formats atomic units as a decimal token amount for people ("1000", 6 → "0.001"). */
export function formatAtomicUnits(amount: string, decimals: number): string {
  const padded = amount.padStart(decimals + 1, '0');
  const whole = padded.slice(0, padded.length - decimals);
  const fraction = padded.slice(padded.length - decimals).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}
