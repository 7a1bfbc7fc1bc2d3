/**
 * `cdk-x402/metering`: for Node origins behind an `upto` (metered) route. The origin says what a
 * request actually cost in the `Settlement-Overrides` response header; the edge settles that
 * amount (at most the signed maximum) and removes the header (docs/metering.md). No dependencies.
 */
/** The part of a response the helper writes to: Node's `http.ServerResponse`, Express's and Fastify's raw response. */
export interface HeaderWritable {
  setHeader(name: string, value: string): unknown;
}

/** The header's name as @x402/core writes it (lambda/core/header-names.ts has it lower-case, as the edge reads it). */
export const SETTLEMENT_OVERRIDES_HEADER = 'Settlement-Overrides';

/**
 * Reports the actual charge of this request before the response's headers are sent: atomic units
 * of the asset (`1234n`, `1234`, `"1234"`; 0 charges nothing), dollars (`"$0.0012"`) or a percentage
 * of the signed maximum (`"37.5%"`). Throws on anything else, so a bug never silently charges the
 * route's `usageMissing` default.
 */
export function reportUsage(response: HeaderWritable, amount: bigint | number | string): void {
  response.setHeader(SETTLEMENT_OVERRIDES_HEADER, settlementOverridesValue(amount));
}

/** The header's value for `amount` (for frameworks without `setHeader`): `{"amount":"1234"}`. */
export function settlementOverridesValue(amount: bigint | number | string): string {
  const text = typeof amount === 'string' ? amount.trim() : typeof amount === 'number' && Number.isSafeInteger(amount) ? String(amount) : typeof amount === 'bigint' ? amount.toString() : '';
  if (!/^(\d+|\$\d+(\.\d+)?|\d{1,3}(\.\d{1,2})?%)$/.test(text)) {
    throw new Error(`reportUsage: ${String(amount)} is not atomic units (a non-negative integer), "$<dollars>" or "<percent>%"`);
  }
  return JSON.stringify({ amount: text });
}

