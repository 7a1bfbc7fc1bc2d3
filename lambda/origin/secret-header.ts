/**
 * The origin secret header: CloudFront adds it to every request it sends to a protected HTTP
 * origin (an origin custom header), with a value kept in Secrets Manager and rotated; the origin
 * serves only requests that carry a current value. No imports, so the constructs read these names
 * without loading the AWS SDK.
 */

/** Default name of the header CloudFront sends and the origin checks. */
export const ORIGIN_SECRET_HEADER = 'x-origin-verify';

/**
 * The Secrets Manager staging labels an origin accepts. During a rotation CloudFront is switched to
 * the AWSPENDING value before it becomes AWSCURRENT, and edge locations change over gradually, so
 * the origin accepts the pending, the current and the previous value.
 */
export const ACCEPTED_SECRET_STAGES = ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'] as const;

/** What the rotation function is told through its environment (lib/origin-protection.ts sets it). */
export const RotationEnvironment = {
  /** Comma-separated ids of the distributions whose origins carry the header. */
  distributionIds: 'X402_ORIGIN_DISTRIBUTION_IDS',
  headerName: 'X402_ORIGIN_SECRET_HEADER',
} as const;
