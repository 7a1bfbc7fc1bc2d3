export { officialClientFor } from '../cli/agent';

/** A fetch that remembers the last payment header it sent (to show that a replay is refused). */
export function recordingFetch(): { fetch: typeof fetch; lastPaymentHeader: () => string | undefined } {
  let last: string | undefined;
  const recording: typeof fetch = (input, init) => {
    const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
    if (init?.headers) new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    last = headers.get('payment-signature') ?? last;
    return fetch(input, init);
  };
  return { fetch: recording, lastPaymentHeader: () => last };
}
