/**
 * `cdk-x402 catalog`: the catalogue the edge serves at /.well-known/x402.json
 * (lambda/core/catalog.ts), from the configuration a `cdk synth` would bake (the `x402:*` context
 * of cdk.json, with `-c key=value` on top), before or without a deployment. The JSON is the edge's
 * text byte for byte: built by the same code, for the same host.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HTTPFacilitatorClient } from '@x402/core/http';
import { getAddress, isAddress, type Address } from 'viem';
import { BATCH_SETTLEMENT_SCHEME } from '../lambda/core/batch/route-terms';
import { catalogHasChannelRoutes, catalogHasMeteredRoutes, CatalogDocuments, type Catalog, type CatalogConfig } from '../lambda/core/catalog';
import { PASS_EXTENSION } from '../lambda/core/passes/offers';
import { formatAtomicUnits } from '../lambda/core/price';
import { FacilitatorAddress } from '../lambda/core/upto';
import { facilitatorAuth } from '../lambda/edge/facilitator-auth';
import { settingsFromContext } from '../lib/config/context';
import { X402ConfigError } from '../lib/config/problems';
import { resolveX402Config } from '../lib/config/resolve';
import { resourceUrl } from '../lambda/core/requirements';
import { CliError, ExitCode } from './errors';
import { table } from './format';

/** Bounds the facilitator's /supported (asked only for upto and batch-settlement routes' terms). */
const SUPPORTED_TIMEOUT_MS = 10_000;

export interface CatalogOptions {
  /** The cdk.json whose `context` holds the `x402:*` keys. */
  readonly contextFile: string;
  /** `key=value` overrides, as `cdk synth -c` takes them. */
  readonly contextValues: readonly string[];
  /** The site's domain, which the catalogue's URLs name (the edge names the host it was asked on). */
  readonly host?: string;
  /** What upto terms name, instead of asking the configured facilitator's /supported. */
  readonly facilitatorAddress?: string;
}

export interface CatalogResult {
  readonly catalog: Catalog;
  /** The JSON text the edge serves for the same configuration and host. */
  readonly body: string;
  readonly asset: { readonly decimals: number; readonly symbol: string };
}

/** The context a `cdk synth` in the context file's folder would see: cdk.json's, then `-c`. */
export function catalogContext(contextFile: string, contextValues: readonly string[]): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  if (existsSync(contextFile)) {
    let parsed: { context?: Record<string, unknown> };
    try {
      parsed = JSON.parse(readFileSync(contextFile, 'utf8'));
    } catch (error) {
      throw new CliError(`${contextFile} is not JSON: ${(error as Error).message}`, ExitCode.usage, 'fix the file, or name another with --context <file>');
    }
    Object.assign(context, parsed.context);
  } else if (contextValues.length === 0) {
    throw new CliError(`there is no ${contextFile} to read the configuration from`, ExitCode.usage, 'run it in the folder of your CDK app, name its cdk.json with --context <file>, or give the x402:* keys with -c key=value');
  }
  for (const pair of contextValues) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`-c ${JSON.stringify(pair)} is not key=value`, ExitCode.usage, 'e.g. -c x402:payTo=0x209693Bc6afc0C5328bA36FaF03C514EF312287C');
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  // Synth reads the file relative to the CDK app, which is where cdk.json is.
  if (typeof context['x402:deniedPayersFile'] === 'string') context['x402:deniedPayersFile'] = path.resolve(path.dirname(contextFile), context['x402:deniedPayersFile']);
  return context;
}

/** The configuration as synth validates it, in the shape the catalogue is built from. */
function catalogConfig(context: Record<string, unknown>): CatalogConfig & { readonly facilitator: ReturnType<typeof resolveX402Config>['facilitator'] } {
  try {
    const resolved = resolveX402Config(settingsFromContext(context));
    return { network: resolved.network, payTo: resolved.payTo, asset: resolved.asset, routes: resolved.routes, maxTimeoutSeconds: resolved.maxTimeoutSeconds, passes: resolved.passes, facilitator: resolved.facilitator };
  } catch (error) {
    if (error instanceof X402ConfigError) throw new CliError(`the configuration is invalid (cdk synth would refuse it):\n${error.message}`, ExitCode.usage, 'fix the x402:* keys it names');
    throw error;
  }
}

/** `example.com`, not a URL: the edge names `https://<host>`. */
function checkedHost(host: string): string {
  const trimmed = host.trim();
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(trimmed)) {
    throw new CliError(`--host ${JSON.stringify(host)} is not a host name`, ExitCode.usage, 'give the domain agents reach the site on, without scheme or path, e.g. --host example.com');
  }
  return trimmed.toLowerCase();
}

/** The address upto terms name: the flag's, else the configured facilitator's (its /supported, as the edge asks it). */
async function uptoFacilitator(config: ReturnType<typeof catalogConfig>, flag: string | undefined): Promise<Address> {
  const fix = 'pass --facilitator-address <0x...>: the extra.facilitatorAddress of the upto kind in the facilitator\'s /supported';
  if (flag !== undefined) {
    if (!isAddress(flag, { strict: false })) throw new CliError(`--facilitator-address ${JSON.stringify(flag)} is not an address`, ExitCode.usage, fix);
    return getAddress(flag);
  }
  const client = new HTTPFacilitatorClient({ url: config.facilitator.url, timeoutMs: SUPPORTED_TIMEOUT_MS, createAuthHeaders: facilitatorAuth(config.facilitator) });
  let failure = 'it did not answer';
  const address = await new FacilitatorAddress(() => client.getSupported(), config.network, Date.now, (line) => (failure = String(line.error ?? failure))).get(SUPPORTED_TIMEOUT_MS);
  if (address === undefined) throw new CliError(`the upto routes' terms name the facilitator's address, and ${config.facilitator.url}/supported gave none: ${failure}`, ExitCode.failure, fix);
  return address;
}

/**
 * What batch-settlement terms name: the pinned receiver authorizer, else the facilitator's
 * /supported, as the edge reads it; unknown, none (the edge's catalogue then names none either).
 */
async function batchReceiverAuthorizer(config: ReturnType<typeof catalogConfig>): Promise<Address | undefined> {
  if (config.facilitator.receiverAuthorizer !== undefined) return getAddress(config.facilitator.receiverAuthorizer);
  const client = new HTTPFacilitatorClient({ url: config.facilitator.url, timeoutMs: SUPPORTED_TIMEOUT_MS, createAuthHeaders: facilitatorAuth(config.facilitator) });
  return new FacilitatorAddress(() => client.getSupported(), config.network, Date.now, () => undefined, { scheme: BATCH_SETTLEMENT_SCHEME, field: 'receiverAuthorizer' }).get(SUPPORTED_TIMEOUT_MS);
}

/**
 * The catalogue of the configuration. With a host, the edge's JSON for it (upto terms need the
 * facilitator's address); without, URLs are paths and upto terms name no facilitator (a table).
 */
export async function catalogFromConfig(options: CatalogOptions): Promise<CatalogResult> {
  const config = catalogConfig(catalogContext(options.contextFile, options.contextValues));
  const origin = options.host === undefined ? '' : resourceUrl(checkedHost(options.host), '');
  const address = options.host !== undefined && catalogHasMeteredRoutes(config) ? await uptoFacilitator(config, options.facilitatorAddress) : undefined;
  const receiverAuthorizer = options.host !== undefined && catalogHasChannelRoutes(config) ? await batchReceiverAuthorizer(config) : undefined;
  const { body } = new CatalogDocuments(config).get(origin, address, receiverAuthorizer);
  return { catalog: JSON.parse(body) as Catalog, body, asset: { decimals: config.asset.decimals, symbol: config.asset.symbol } };
}

/** One line per item: what it is, how to call it, what it costs. */
export function formatCatalogTable(result: CatalogResult): string {
  const { decimals, symbol } = result.asset;
  const rows = result.catalog.items.map((item) => {
    const [terms] = item.accepts;
    const kind = item.extensions?.[PASS_EXTENSION] ? 'pass' : terms.scheme === 'upto' ? 'metered' : 'priced';
    const price = `${terms.scheme === 'upto' ? 'up to ' : ''}${formatAtomicUnits(terms.amount, decimals)} ${symbol}`;
    return [kind, item.input.method ?? 'any', item.input.routeTemplate, price, item.resource.description ?? ''];
  });
  return `${table(['kind', 'method', 'path', 'price', 'description'], rows, [3])}\n`;
}
