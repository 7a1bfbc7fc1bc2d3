/** Which request header names a setting may name: one check for every setting that names one. */
import { INTERNAL_HEADER_PREFIX } from '../../lambda/core/handoff';
import { PaymentHeaders } from '../../lambda/core/header-names';

/** Headers the paywall itself writes or removes (hand-off, payment id, signed payments). */
export function isPaywallHeader(name: string): boolean {
  return name.startsWith(INTERNAL_HEADER_PREFIX) || name === PaymentHeaders.signatureV2 || name === PaymentHeaders.signatureV1;
}

/** Why a lower-case name cannot be a header a setting reads, or undefined when it can. */
export function headerNameProblem(name: string): { readonly problem: string; readonly fix: string } | undefined {
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return { problem: 'is not an HTTP header name', fix: 'e.g. accept-language' };
  if (isPaywallHeader(name)) return { problem: 'is written or removed by the paywall before any setting reads it', fix: `name a header of your own (not ${INTERNAL_HEADER_PREFIX}*, ${PaymentHeaders.signatureV2} or ${PaymentHeaders.signatureV1})` };
  return undefined;
}
