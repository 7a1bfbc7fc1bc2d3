import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FacilitatorConfig } from '@x402/core/http';
import type { EdgeConfig } from '../core/config';
import { isCdpFacilitatorUrl } from '../core/facilitators';
import type { Clock } from '../core/ports';

export type CreateAuthHeaders = NonNullable<FacilitatorConfig['createAuthHeaders']>;

/** A fetched key is refreshed after this long (in the background), so a rotation lands. */
export const CDP_KEY_TTL_MS = 5 * 60_000;

/**
 * The auth hook for the configured facilitator. A CDP API key signs calls to the Coinbase CDP
 * facilitator only: for any other URL there are no auth headers and the secret is never read.
 * Synth refuses that configuration already; this holds for any bundle, however it was built, since
 * the signed token is a bearer credential that whoever receives it could replay against CDP.
 */
export function facilitatorAuth(facilitator: Pick<EdgeConfig['facilitator'], 'url' | 'auth'>, clock?: Clock): CreateAuthHeaders | undefined {
  const { auth, url } = facilitator;
  if (!auth || !isCdpFacilitatorUrl(url)) return undefined;
  return cdpAuthFromSecret(auth.secretId, auth.region, clock);
}

/**
 * Auth headers for the Coinbase CDP facilitator, signed by the official `@coinbase/x402` helper
 * with the CDP API key read from Secrets Manager. If the key cannot be read the facilitator call
 * fails, and the paywall fails closed (503) like for any facilitator outage.
 */
function cdpAuthFromSecret(secretId: string, region: string, clock: Clock = Date.now): CreateAuthHeaders {
  let current: { readonly sign: CreateAuthHeaders; readonly fetchedAt: number } | undefined;
  let fetching: Promise<CreateAuthHeaders> | undefined;
  // The AWS SDK client and the CDP signer load with the first facilitator call, not at init: a
  // cold start that serves free requests and 402s never pays for them.
  let modules: Promise<readonly [typeof import('@aws-sdk/client-secrets-manager'), typeof import('@coinbase/x402'), SecretsManagerClient]> | undefined;
  const load = () =>
    (modules ??= Promise.all([import('@aws-sdk/client-secrets-manager'), import('@coinbase/x402')]).then(
      ([sdk, cdp]) => [sdk, cdp, new sdk.SecretsManagerClient({ region, maxAttempts: 2 })] as const,
      (error: unknown) => {
        modules = undefined;
        throw error;
      },
    ));

  // One fetch at a time: concurrent requests share it.
  const refresh = (): Promise<CreateAuthHeaders> =>
    (fetching ??= load()
      .then(async ([sdk, cdp, secrets]) => {
        const { apiKeyId, apiKeySecret } = await readCdpKey(secretId, secrets, sdk.GetSecretValueCommand);
        current = { sign: cdp.createCdpAuthHeaders(apiKeyId, apiKeySecret) as CreateAuthHeaders, fetchedAt: clock() };
        return current.sign;
      })
      // A failed refresh keeps the key in hand (still valid unless revoked); no key at all fails.
      .catch((error: unknown) => {
        if (current) return current.sign;
        throw error;
      })
      .finally(() => {
        fetching = undefined;
      }));

  const signer = async (): Promise<CreateAuthHeaders> => {
    if (!current) return refresh();
    // Past the cache time, the key in hand signs this call while the refresh runs beside it:
    // Secrets Manager (a regional round trip) is never on a paid request's path once a key is held.
    if (clock() - current.fetchedAt >= CDP_KEY_TTL_MS) void refresh();
    return current.sign;
  };
  return async () => (await signer())();
}

async function readCdpKey(
  secretId: string,
  secrets: SecretsManagerClient,
  GetSecretValue: typeof import('@aws-sdk/client-secrets-manager').GetSecretValueCommand,
): Promise<{ apiKeyId: string; apiKeySecret: string }> {
  const { SecretString } = await secrets.send(new GetSecretValue({ SecretId: secretId }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(SecretString ?? '');
  } catch {
    parsed = undefined;
  }
  const { apiKeyId, apiKeySecret } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof apiKeyId !== 'string' || typeof apiKeySecret !== 'string' || !apiKeyId || !apiKeySecret) {
    throw new Error(`secret ${secretId} must hold JSON {"apiKeyId": "...", "apiKeySecret": "..."} (a CDP secret API key)`);
  }
  return { apiKeyId, apiKeySecret };
}
