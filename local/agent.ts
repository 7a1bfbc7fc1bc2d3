import { x402Client } from '@x402/core/client';
import { toClientEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { UptoEvmScheme } from '@x402/evm/upto/client';
import type { PrivateKeyAccount } from 'viem';

/**
 * The official x402 client paying as `account`: `exact` on its default v2 and v1 EVM networks, and
 * `upto` (Permit2; the account needs its one-time approval, `chain.approvePermit2`) on v2 EVM networks.
 */
export function officialClientFor(account: PrivateKeyAccount): x402Client {
  const signer = toClientEvmSigner(account);
  const client = new x402Client();
  registerExactEvmScheme(client, { signer });
  return client.register('eip155:*', new UptoEvmScheme(signer));
}

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
