/** The payment network's asset and the facilitator that settles on it (edge engine). */
import type { AssetConfig, EdgeConfig, FacilitatorAuth } from '../../lambda/core/config';
import { CDP_FACILITATOR, isCdpFacilitatorUrl } from '../../lambda/core/facilitators';
import type { knownNetwork } from '../../lambda/core/networks';
import { checkAddress } from './address';
import { intInRange, oneOf } from './checks';
import { PUBLIC_TEST_FACILITATOR } from './context-keys';
import type { Problems } from './problems';
import { PaymentVerifier, type AssetSettings, type Engine, type X402Settings } from './settings';

/** Where the edge functions look up a secret given by name. */
const DEFAULT_SECRET_REGION = 'us-east-1';

export function resolveAsset(
  problems: Problems,
  value: AssetSettings | undefined,
  known: ReturnType<typeof knownNetwork>,
  engine: Engine,
  warnings: string[],
): AssetConfig | undefined {
  if (value === undefined) {
    if (known) return { ...known.usdc, symbol: 'USDC' };
    problems.add('x402:asset', value, 'is required on a network cdk-x402 has no USDC address for', 'set {"address":"0x…","name":"<EIP-712 name>","version":"<EIP-712 version>","decimals":6}');
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    problems.add('x402:asset', value, 'must be an object', 'set {"address":"0x…","name":"…","version":"…","decimals":6}');
    return undefined;
  }
  const before = problems.list.length;
  const address = checkAddress(problems, 'x402:asset.address', value.address, 'set the token contract address');
  if (typeof value.name !== 'string' || value.name.trim() === '') {
    problems.add('x402:asset.name', value.name, 'is required (the token\'s EIP-712 domain name)', 'read it from the token contract\'s name() / eip712Domain(), e.g. "USDC"');
  }
  if (typeof value.version !== 'string' || value.version.trim() === '') {
    problems.add('x402:asset.version', value.version, 'is required (the token\'s EIP-712 domain version)', 'read it from the token contract\'s version() / eip712Domain(), e.g. "2"');
  }
  if (typeof value.decimals !== 'number' || !Number.isInteger(value.decimals) || value.decimals < 0 || value.decimals > 36) {
    problems.add('x402:asset.decimals', value.decimals, 'must be an integer from 0 to 36', 'read it from the token contract\'s decimals(), e.g. 6 for USDC');
  }
  if (problems.list.length > before || !address) return undefined;
  const isKnownUsdc = known !== undefined && address.toLowerCase() === known.usdc.address.toLowerCase();
  if (engine === 'waf' && !isKnownUsdc) {
    problems.add('x402:asset', value, 'is not the USDC of the network, and AWS WAF monetization settles only in USDC', 'remove x402:asset (the waf engine always uses USDC)');
  }
  if (isKnownUsdc && (value.name !== known!.usdc.name || value.version !== known!.usdc.version || value.decimals !== known!.usdc.decimals)) {
    problems.add('x402:asset', value, `is ${known!.displayName} USDC but its EIP-712 domain/decimals differ (${known!.usdc.name}, version ${known!.usdc.version}, ${known!.usdc.decimals} decimals): signatures would not verify`, 'remove x402:asset to use the right values');
  }
  if (!isKnownUsdc && value.symbol === undefined) warnings.push('x402:asset has no symbol; 402 bodies will say "tokens"');
  return { address, name: value.name, version: value.version, decimals: value.decimals, symbol: value.symbol ?? (isKnownUsdc ? 'USDC' : 'tokens') };
}

/** Base Sepolia is the one testnet cdk-x402 knows; on any other network, payments may be real money. */
export function isTestnet(known: ReturnType<typeof knownNetwork>): boolean {
  return known?.caip2 === 'eip155:84532';
}

export function resolveFacilitator(
  problems: Problems,
  settings: X402Settings,
  engine: Engine,
  known: ReturnType<typeof knownNetwork>,
  warnings: string[],
): EdgeConfig['facilitator'] {
  const verifyTimeoutMs = intInRange(problems, 'x402:verifyTimeoutMs', settings.verifyTimeoutMs, 3000, 500, 4000, 'a viewer-request trigger has 5 s in all, DynamoDB included');
  const settleTimeoutMs = intInRange(problems, 'x402:settleTimeoutMs', settings.settleTimeoutMs, 20000, 1000, 25000, 'an origin-response trigger has 30 s in all');
  const testnet = known === undefined || isTestnet(known);
  let url = settings.facilitatorUrl;
  if (engine === 'waf') {
    if (url !== undefined) warnings.push('x402:facilitatorUrl has no effect with the waf engine: AWS verifies and settles payments itself');
    if (settings.cdpApiKeySecret !== undefined) warnings.push('x402:cdpApiKeySecret has no effect with the waf engine: AWS verifies and settles payments itself');
    if (settings.receiverAuthorizer !== undefined) warnings.push('x402:receiverAuthorizer has no effect with the waf engine: it offers no batch-settlement routes');
    return { url: url ?? PUBLIC_TEST_FACILITATOR, verifyTimeoutMs, settleTimeoutMs };
  }
  const auth = resolveCdpAuth(problems, settings.cdpApiKeySecret);
  if (url === undefined && auth) url = CDP_FACILITATOR;
  if (url === undefined) {
    if (!testnet) {
      problems.add(
        'x402:facilitatorUrl',
        url,
        `is required on ${known?.displayName ?? 'this network'}: the public facilitator ${PUBLIC_TEST_FACILITATOR} settles testnets only`,
        'set -c x402:cdpApiKeySecret=<secret with your CDP API key> for the Coinbase CDP facilitator, or -c x402:facilitatorUrl=https://<a facilitator that settles on this network> (see docs/going-live.md)',
      );
    }
    url = PUBLIC_TEST_FACILITATOR;
  } else {
    const parsed = httpsUrl(url);
    if (!parsed || parsed.search !== '') {
      problems.add('x402:facilitatorUrl', url, 'must be an https:// URL without query or fragment (Lambda@Edge calls it over the internet)', `e.g. -c x402:facilitatorUrl=${PUBLIC_TEST_FACILITATOR}`);
    } else {
      url = url.replace(/\/+$/, '');
      if (!testnet && url === PUBLIC_TEST_FACILITATOR) {
        problems.add('x402:facilitatorUrl', url, `settles testnets only, not ${known?.displayName}`, 'use a facilitator that settles on this network (see docs/going-live.md)');
      }
      const cdp = isCdpFacilitatorUrl(url);
      if (auth && !cdp) {
        problems.add(
          'x402:cdpApiKeySecret',
          settings.cdpApiKeySecret,
          `holds a Coinbase CDP API key, which cdk-x402 only ever sends to the CDP facilitator (${new URL(CDP_FACILITATOR).host}), but x402:facilitatorUrl is ${url}`,
          'remove x402:facilitatorUrl (the key makes the CDP facilitator the default), or remove x402:cdpApiKeySecret to use that facilitator without a CDP key',
        );
      }
      if (cdp && !auth) {
        problems.add(
          'x402:cdpApiKeySecret',
          undefined,
          'is required by the Coinbase CDP facilitator, which wants a JWT signed with a CDP API key on every call',
          'store the key in Secrets Manager as {"apiKeyId": "...", "apiKeySecret": "..."} and set -c x402:cdpApiKeySecret=<its name or ARN>',
        );
      }
    }
  }
  const receiverAuthorizer = resolveReceiverAuthorizer(problems, settings.receiverAuthorizer);
  return { url, verifyTimeoutMs, settleTimeoutMs, ...(auth ? { auth } : {}), ...(receiverAuthorizer ? { receiverAuthorizer } : {}) };
}

/** The pinned receiver authorizer of batch-settlement routes: a checksummed address, or unset (read from /supported). */
function resolveReceiverAuthorizer(problems: Problems, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  return checkAddress(problems, 'x402:receiverAuthorizer', value, "copy the receiverAuthorizer of the batch-settlement kind in the facilitator's /supported, or leave it unset to read it from there");
}

/** The RPC endpoint the edge asks whether a payer has code (edge engine; `undefined` when not set). */
export function resolveChainRpc(problems: Problems, settings: X402Settings, engine: Engine, warnings: string[]): EdgeConfig['chainRpc'] {
  const timeoutMs = intInRange(problems, 'x402:rpcTimeoutMs', settings.rpcTimeoutMs, 500, 100, 2000, 'a viewer-request trigger has 5 s in all, the facilitator and DynamoDB included');
  const verifier = oneOf(problems, 'x402:verifier', settings.verifier, PaymentVerifier, PaymentVerifier.FACILITATOR);
  const url = settings.rpcUrl;
  if (url === undefined) {
    if (settings.rpcTimeoutMs !== undefined) warnings.push('x402:rpcTimeoutMs has no effect without x402:rpcUrl');
    if (verifier === PaymentVerifier.RPC && engine !== 'waf') {
      problems.add('x402:verifier', verifier, 'needs x402:rpcUrl, the endpoint that simulates each transfer', 'set -c x402:rpcUrl=https://<a JSON-RPC endpoint of x402:network>, or use x402:verifier=facilitator');
    }
    return undefined;
  }
  if (engine === 'waf') {
    warnings.push('x402:rpcUrl has no effect with the waf engine: AWS verifies payments itself');
    return undefined;
  }
  if (!httpsUrl(url)) {
    problems.add('x402:rpcUrl', url, 'must be an https:// URL without fragment (Lambda@Edge calls it over the internet)', 'e.g. -c x402:rpcUrl=https://<a JSON-RPC endpoint of x402:network>');
    return undefined;
  }
  return verifier === PaymentVerifier.RPC ? { url, timeoutMs, verifyTransfers: true } : { url, timeoutMs };
}

/** `value` parsed when it is an https:// URL without a fragment (what Lambda@Edge can call), else undefined. */
function httpsUrl(value: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return undefined;
  }
  return parsed.protocol === 'https:' && parsed.hash === '' ? parsed : undefined;
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** A Secrets Manager secret given by ARN (its region) or by name (in us-east-1), or undefined if it is neither. */
export function secretLocation(secret: string): { readonly secretId: string; readonly region: string } | undefined {
  const arn = SECRET_ARN.exec(secret);
  if (arn) return { secretId: secret, region: arn[1] };
  if (SECRET_NAME.test(secret) && !secret.startsWith('arn:')) return { secretId: secret, region: DEFAULT_SECRET_REGION };
  return undefined;
}

/** What to write instead of a value that is not a secret. */
export const SECRET_FIX = "use the secret's name (in us-east-1, e.g. x402/cdp-api-key) or its full ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)";

function resolveCdpAuth(problems: Problems, secret: string | undefined): FacilitatorAuth | undefined {
  if (secret === undefined) return undefined;
  const location = secretLocation(secret);
  if (location) return { kind: 'cdp', ...location };
  problems.add(
    'x402:cdpApiKeySecret',
    secret,
    'is neither a Secrets Manager secret name nor a secret ARN',
    SECRET_FIX,
  );
  return undefined;
}
