/**
 * Facilitators cdk-x402 knows by URL. No imports: the constructs read these at synth time and the
 * edge at run time, so both decide the same way where a Coinbase CDP API key may be sent.
 */
export const CDP_FACILITATOR = 'https://api.cdp.coinbase.com/platform/v2/x402';

/** Whether `url` is served by the Coinbase CDP facilitator's host over https: the only place a CDP key signs for. */
export function isCdpFacilitatorUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && parsed.host === new URL(CDP_FACILITATOR).host;
}
