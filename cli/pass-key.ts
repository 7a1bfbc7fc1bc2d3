/**
 * `cdk-x402 pass-key create | retire` and `cdk-x402 pass revoke`: the keys passes are signed with, and the revocation list. `create` makes a P-256 key
 * pair, stores the private key (PKCS#8 PEM) in Secrets Manager, and prints the `x402:passKeys`
 * entry (the public key as a JWK and the secret's ARN) for cdk.json; only the origin-facing edge
 * function is granted to read the secret. `retire` marks a key in cdk.json: it stops signing at the
 * next deploy and keeps verifying until the passes it signed have expired.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { MAX_PASS_SECONDS, parsePassDuration } from '../lambda/core/passes/offers';
import type { PassKey } from '../lib/config/settings';
import { REVOCATION_REFRESH_SECONDS } from '../lambda/core/passes/revocations';
import { DynamoReceiptStore } from '../lambda/edge/dynamo-receipt-store';
import type { Session, TargetOptions } from './context';
import { CliError, ExitCode, readTextFile } from './errors';

/** Passes are verified by the viewer-request in every edge location; the secret is read from here by default. */
export const PASS_KEY_REGION = 'us-east-1';
const KID = /^[A-Za-z0-9_-]{1,64}$/;

export interface CreatedPassKey {
  /** The `x402:passKeys` entry to add to cdk.json. */
  readonly entry: PassKey;
  readonly secretArn: string;
}

export async function createPassKey(session: Session, options: { readonly kid?: string; readonly secretName?: string; readonly region?: string }): Promise<CreatedPassKey> {
  const kid = options.kid ?? `k${new Date(session.deps.now()).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(2).toString('hex')}`;
  if (!KID.test(kid)) throw new CliError(`--kid ${kid} is not [A-Za-z0-9_-], at most 64 characters`, ExitCode.usage);
  const name = options.secretName ?? `cdk-x402/pass-key-${kid}`;
  const region = options.region ?? PASS_KEY_REGION;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  session.progress(`Storing the private key of ${kid} in Secrets Manager as ${name} (${region})…`);
  const created = await session.aws({ operation: 'CreateSecret', resource: `secret ${name}`, region }, () =>
    session.deps.clients.secrets(region).send(
      new CreateSecretCommand({
        Name: name,
        Description: `cdk-x402 pass signing key ${kid} (PKCS#8 PEM, P-256); read by the origin-request edge function only`,
        SecretString: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        Tags: [{ Key: 'cdk-x402', Value: 'pass-key' }],
      }),
    ),
  );
  if (!created.ARN) throw new CliError(`Secrets Manager created ${name} but returned no ARN`, ExitCode.aws);
  return { entry: { kid, publicKey: { kty: 'EC', crv: 'P-256', x: x!, y: y! }, secret: created.ARN }, secretArn: created.ARN };
}

export function formatCreatedPassKey(created: CreatedPassKey): string {
  return [
    `Created pass key ${created.entry.kid}; its private key is in ${created.secretArn}.`,
    'Add this entry to the "x402:passKeys" list in the context of cdk.json (retire the previous active key with `cdk-x402 pass-key retire --kid <old>`), then deploy:',
    '',
    JSON.stringify(created.entry, null, 2),
    '',
  ].join('\n');
}

export interface RetiredPassKey {
  readonly kid: string;
  readonly retiredAt: string;
  /** When every pass it signed has expired: from then on it (and its secret) can be removed. */
  readonly removableAfter: string;
  readonly file: string;
}

/** Marks a key retired in cdk.json (a local file; no AWS call). */
export function retirePassKey(file: string, kid: string, now: number): RetiredPassKey {
  const text = readTextFile(file, 'run it next to cdk.json, or pass --context <path of cdk.json>');
  const json = JSON.parse(text) as { context?: Record<string, unknown> };
  const keys = json.context?.['x402:passKeys'];
  if (!Array.isArray(keys)) throw new CliError(`${file} has no "x402:passKeys" list in its context`, ExitCode.usage, 'add the entry `cdk-x402 pass-key create` printed first');
  const key = keys.find((k: PassKey) => k?.kid === kid) as (PassKey & { retiredAt?: string }) | undefined;
  if (!key) throw new CliError(`${file} lists no pass key ${kid} (it has ${keys.map((k: PassKey) => k?.kid).join(', ') || 'none'})`, ExitCode.usage);
  const retiredAt = key.retiredAt ?? new Date(now).toISOString();
  if (!key.retiredAt) {
    (key as { retiredAt?: string }).retiredAt = retiredAt;
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  }
  return { kid, retiredAt, removableAfter: new Date(Date.parse(retiredAt) + longestPassSeconds(json.context) * 1000).toISOString(), file };
}

/** The longest pass on sale in this context; 31 days (the most a pass lasts) when it cannot be read. */
function longestPassSeconds(context: Record<string, unknown> | undefined): number {
  let passes = context?.['x402:passes'];
  if (typeof passes === 'string') {
    try {
      passes = JSON.parse(passes);
    } catch {
      return MAX_PASS_SECONDS;
    }
  }
  const offers = Array.isArray(passes) ? passes : Object.values(passes ?? {});
  const seconds = offers.map((o) => parsePassDuration(String((o as { duration?: unknown })?.duration ?? ''))).map((d) => ('seconds' in d ? d.seconds : MAX_PASS_SECONDS));
  return seconds.length > 0 ? Math.max(...seconds) : MAX_PASS_SECONDS;
}

export function formatRetiredPassKey(retired: RetiredPassKey): string {
  return [
    `Pass key ${retired.kid} is retired in ${retired.file} (since ${retired.retiredAt}): after the next deploy it no longer signs, and it keeps verifying the passes it signed.`,
    `Those have all expired by ${retired.removableAfter}; then remove the entry (and delete its secret) and deploy again. Synth says so too.`,
    '',
  ].join('\n');
}

export interface RevokedPass {
  readonly passId: string;
  readonly tableName: string;
  /** Until when it stays on the list (its pass's expiry). */
  readonly listedUntil: string;
}

/** Puts a pass on the table's revocation list; every viewer-request container refuses it within a minute. */
export async function revokePass(session: Session, options: TargetOptionsWithPass): Promise<RevokedPass> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.passId)) throw new CliError(`--pass-id ${options.passId} is not a pass id (the passId of the sale, the jti of the pass)`, ExitCode.usage);
  const now = session.deps.now();
  const until = options.expiresAt === undefined ? now + MAX_PASS_SECONDS * 1000 : Date.parse(options.expiresAt);
  if (Number.isNaN(until)) throw new CliError(`--expires-at ${options.expiresAt} is not an ISO 8601 time`, ExitCode.usage, 'give the pass\'s expiresAt (its sale answer and receipt row hold it)');
  const target = await session.target({ table: true });
  const store = new DynamoReceiptStore(session.deps.clients.dynamo(session.region), target.tableName!);
  await session.aws({ operation: 'PutItem', resource: `receipt table ${target.tableName}` }, () =>
    store.revokePass(options.passId, Math.ceil(until / 1000), Math.floor(now / 1000), new Date(now).toISOString()),
  );
  return { passId: options.passId, tableName: target.tableName!, listedUntil: new Date(until).toISOString() };
}

export interface TargetOptionsWithPass extends TargetOptions {
  readonly passId: string;
  readonly expiresAt?: string;
}

export function formatRevokedPass(revoked: RevokedPass): string {
  return `Pass ${revoked.passId} is revoked (listed in ${revoked.tableName} until ${revoked.listedUntil}): the edge refuses it within a minute (${REVOCATION_REFRESH_SECONDS} s, each container's reload).\n`;
}
