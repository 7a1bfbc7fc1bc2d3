/**
 * The origin side of origin protection, for Node origins (express, connect, node:http): serve a
 * request only when it carries the origin secret header CloudFront adds, so whoever reaches the
 * origin directly (its hostname or IP) cannot bypass CloudFront, WAF and the paywall.
 *
 * Values are read from Secrets Manager (the pending, current and previous ones, so a rotation
 * never locks CloudFront out), cached, and compared in constant time. The check fails closed: 403
 * when the header is missing or wrong, 503 when the secret cannot be read and nothing is cached.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../core/ports';
import { ACCEPTED_SECRET_STAGES, ORIGIN_SECRET_HEADER } from './secret-header';

export interface OriginSecretCheckOptions {
  /** ARN (or name) of the origin secret: `paywall.originSecret.secret.secretArn`. */
  readonly secretId: string;
  /** Region of the secret (the stack's region). */
  readonly region: string;
  /** @default ORIGIN_SECRET_HEADER ('x-origin-verify') */
  readonly headerName?: string;
  /** How long values read from Secrets Manager are used before they are read again. @default 300000 (5 minutes) */
  readonly cacheTtlMs?: number;
  /**
   * Secrets Manager is read at most this often. A header that matches no cached value triggers a
   * read (a rotation switches CloudFront to a new value before the cache expires), so forged
   * headers cannot flood Secrets Manager; a failed read is retried after this too. @default 10000
   */
  readonly minReadIntervalMs?: number;
  /** @default a SecretsManagerClient for `region` */
  readonly client?: SecretsManagerClient;
  /** @default Date.now */
  readonly clock?: Clock;
  /** Called when reading the secret fails (the check keeps using the values it has). @default console.error */
  readonly onReadError?: (error: unknown) => void;
}

export type OriginCheckVerdict = 'from-cloudfront' | 'not-from-cloudfront' | 'secret-unavailable';

export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface OriginSecretCheck {
  /** Whether the request headers carry an accepted value, or the secret cannot be read. */
  verdict(headers: IncomingHttpHeaders): Promise<OriginCheckVerdict>;
  /** True only for an accepted value (false also when the secret cannot be read: fail closed). */
  isFromCloudFront(headers: IncomingHttpHeaders): Promise<boolean>;
  /** express / connect middleware: `next()` for CloudFront's requests, else a JSON 403 or 503. */
  readonly middleware: NodeMiddleware;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function createOriginSecretCheck(options: OriginSecretCheckOptions): OriginSecretCheck {
  const headerName = (options.headerName ?? ORIGIN_SECRET_HEADER).toLowerCase();
  const cacheTtlMs = options.cacheTtlMs ?? 300_000;
  const minReadIntervalMs = options.minReadIntervalMs ?? 10_000;
  const clock = options.clock ?? Date.now;
  const onReadError = options.onReadError ?? ((error: unknown) => console.error('origin secret check: reading the secret failed', error));
  const client = options.client ?? new SecretsManagerClient({ region: options.region });

  // SHA-256 digests of the accepted values by stage: equal lengths for timingSafeEqual, no plain values kept.
  let cache: { readonly digests: ReadonlyMap<string, Buffer>; readonly readAt: number } | undefined;
  let lastReadAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;

  const readStage = async (stage: string): Promise<string | undefined> => {
    try {
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: options.secretId, VersionStage: stage }));
      return SecretString || undefined;
    } catch (error) {
      // AWSPENDING exists only during a rotation, AWSPREVIOUS only after the first one.
      if (error instanceof ResourceNotFoundException && stage !== 'AWSCURRENT') return undefined;
      throw error;
    }
  };

  const read = (): Promise<void> => {
    lastReadAt = clock();
    reading ??= Promise.allSettled(ACCEPTED_SECRET_STAGES.map(readStage))
      .then((results) => {
        const current = results[0];
        if (current.status === 'rejected') throw current.reason;
        const digests = new Map<string, Buffer>();
        results.forEach((result, i) => {
          const stage = ACCEPTED_SECRET_STAGES[i];
          if (result.status === 'fulfilled') {
            if (result.value !== undefined) digests.set(stage, sha256(result.value));
          } else {
            // A stage that could not be read keeps the value already known for it.
            const known = cache?.digests.get(stage);
            if (known) digests.set(stage, known);
            onReadError(result.reason);
          }
        });
        cache = { digests, readAt: clock() };
      })
      .catch(onReadError)
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  /** Joins a read in flight, else reads unless the last read was too recent. */
  const freshen = async (): Promise<void> => {
    if (reading) return reading;
    if (clock() - lastReadAt >= minReadIntervalMs) return read();
  };

  const accepted = (presented: Buffer): boolean => {
    let match = false;
    // Every value is compared, so the time taken does not depend on which one matched.
    for (const digest of cache?.digests.values() ?? []) match = timingSafeEqual(digest, presented) || match;
    return match;
  };

  const verdict = async (headers: IncomingHttpHeaders): Promise<OriginCheckVerdict> => {
    const raw = headers[headerName];
    // CloudFront sends the header once; absent, empty or repeated is not CloudFront.
    if (typeof raw !== 'string' || raw === '') return 'not-from-cloudfront';
    const presented = sha256(raw);
    if (!cache || clock() - cache.readAt >= cacheTtlMs) await freshen();
    if (!cache) return 'secret-unavailable';
    if (accepted(presented)) return 'from-cloudfront';
    await freshen();
    return accepted(presented) ? 'from-cloudfront' : 'not-from-cloudfront';
  };

  const middleware: NodeMiddleware = (req, res, next) => {
    verdict(req.headers).then((outcome) => {
      if (outcome === 'from-cloudfront') return next();
      const unavailable = outcome === 'secret-unavailable';
      const body = unavailable
        ? { error: 'origin_secret_unavailable', message: 'the origin cannot read its secret to check that this request came through CloudFront; retry shortly' }
        : { error: 'not_from_cloudfront', message: 'this origin serves only requests that come through its CloudFront distribution' };
      res.writeHead(unavailable ? 503 : 403, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...(unavailable ? { 'retry-after': '5' } : {}),
      });
      res.end(JSON.stringify(body));
    }, next);
  };

  return { verdict, isFromCloudFront: async (headers) => (await verdict(headers)) === 'from-cloudfront', middleware };
}
