/**
 * HTTP methods by what they may do at the origin. No imports: the constructs read this too (a
 * behavior that prices a side-effecting method gets the origin-request trigger).
 */
const SAFE_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS'];

/** A request that may change state at the origin: its payment is settled before the origin runs. */
export function hasSideEffects(method: string): boolean {
  return !SAFE_METHODS.includes(method.toUpperCase());
}

/** Methods whose body size may price a request (`priceBy` contentLength): they carry a body the origin reads. */
export const BODY_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH'];
