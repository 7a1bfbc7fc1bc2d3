/**
 * The CloudFront distribution the local edge emulates, read from the CloudFormation template the
 * real constructs synthesize: origins, cache behaviors (path patterns, methods), cache and origin
 * request policies (`Ref`s to the policies in the template, managed policies by their well-known
 * ids), Lambda@Edge associations by event type, and custom error responses. Pure: template JSON in,
 * configuration out; nothing here imports aws-cdk-lib.
 */

export const EDGE_EVENT_TYPES = ['viewer-request', 'origin-request', 'origin-response', 'viewer-response'] as const;
export type EdgeEventType = (typeof EDGE_EVENT_TYPES)[number];

/** Which headers, cookies or query strings a policy selects; names of headers are lower case. */
export interface NameSelection {
  /** Cache policies: none | whitelist | allExcept | all; origin request policies add allViewer, allViewerAndWhitelistCloudFront. */
  readonly behavior: 'none' | 'whitelist' | 'allExcept' | 'all' | 'allViewer' | 'allViewerAndWhitelistCloudFront';
  readonly names: readonly string[];
}

export interface CachePolicyConfig {
  /** TTLs in seconds. */
  readonly minTtl: number;
  readonly defaultTtl: number;
  readonly maxTtl: number;
  readonly headers: NameSelection;
  readonly cookies: NameSelection;
  readonly queryStrings: NameSelection;
  /** The normalized Accept-Encoding joins the cache key (and the origin request). */
  readonly acceptEncodingGzip: boolean;
  readonly acceptEncodingBrotli: boolean;
}

export interface OriginRequestPolicyConfig {
  readonly headers: NameSelection;
  readonly cookies: NameSelection;
  readonly queryStrings: NameSelection;
}

export interface FunctionAssociation {
  /** Logical id of the AWS::Lambda::Function resource. */
  readonly functionId: string;
  readonly includeBody: boolean;
}

export interface CacheBehaviorConfig {
  /** `*` for the default behavior. */
  readonly pathPattern: string;
  readonly targetOriginId: string;
  readonly allowedMethods: readonly string[];
  readonly cachedMethods: readonly string[];
  readonly cachePolicy: CachePolicyConfig;
  readonly originRequestPolicy?: OriginRequestPolicyConfig;
  readonly functions: Readonly<Partial<Record<EdgeEventType, FunctionAssociation>>>;
}

export interface OriginConfig {
  readonly id: string;
  readonly domainName: string;
  readonly protocol: 'http' | 'https';
  readonly port: number;
  /** `''` or a path starting with `/`. */
  readonly path: string;
  readonly customHeaders: Readonly<Record<string, string>>;
  readonly readTimeoutSeconds: number;
  readonly keepaliveTimeoutSeconds: number;
  /** How often CloudFront tries to connect, and (GET, HEAD) to get a response. */
  readonly connectionAttempts: number;
  readonly sslProtocols: readonly string[];
}

export interface EdgeFunctionConfig {
  readonly functionId: string;
  /** `index.handler`: file and export. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly description?: string;
}

export interface DistributionConfig {
  /** Additional behaviors in precedence order, then the default behavior (`*`). */
  readonly behaviors: readonly CacheBehaviorConfig[];
  readonly origins: Readonly<Record<string, OriginConfig>>;
  /** ErrorCachingMinTTL (seconds) per status code from custom error responses; others default to 10. */
  readonly errorCachingMinTtl: Readonly<Record<number, number>>;
  readonly functions: Readonly<Record<string, EdgeFunctionConfig>>;
}

/** CloudFront's error caching minimum TTL when no custom error response sets one (AWS docs). */
export const DEFAULT_ERROR_CACHING_MIN_TTL = 10;

const none: NameSelection = { behavior: 'none', names: [] };
const all: NameSelection = { behavior: 'all', names: [] };

/** Managed policies by id (AWS docs: "Use managed cache policies", "Use managed origin request policies"). */
export const MANAGED_CACHE_POLICIES: Readonly<Record<string, CachePolicyConfig & { readonly name: string }>> = {
  '4135ea2d-6df8-44a3-9df3-4b5a84be39ad': {
    name: 'CachingDisabled', minTtl: 0, defaultTtl: 0, maxTtl: 0, headers: none, cookies: none, queryStrings: none,
    acceptEncodingGzip: false, acceptEncodingBrotli: false,
  },
  '658327ea-f89d-4fab-a63d-7e88639e58f6': {
    name: 'CachingOptimized', minTtl: 1, defaultTtl: 86_400, maxTtl: 31_536_000, headers: none, cookies: none, queryStrings: none,
    acceptEncodingGzip: true, acceptEncodingBrotli: true,
  },
};
export const MANAGED_ORIGIN_REQUEST_POLICIES: Readonly<Record<string, OriginRequestPolicyConfig & { readonly name: string }>> = {
  '216adef6-5c7f-47e4-b989-5492eafa07d3': { name: 'AllViewer', headers: { behavior: 'allViewer', names: [] }, cookies: all, queryStrings: all },
  'b689b0a8-53d0-40ab-baf2-68738e2966ac': { name: 'AllViewerExceptHostHeader', headers: { behavior: 'allExcept', names: ['host'] }, cookies: all, queryStrings: all },
  'acba4595-bd28-49b8-b9fe-13317c0390fa': { name: 'UserAgentRefererHeaders', headers: { behavior: 'whitelist', names: ['user-agent', 'referer'] }, cookies: none, queryStrings: none },
};

type Json = Record<string, unknown>;
interface Resource { readonly Type: string; readonly Properties?: Json }

/**
 * The distribution of a synthesized template. With several distributions in the template, name the
 * one to emulate by its logical id.
 */
export function distributionFromTemplate(template: unknown, distributionLogicalId?: string): DistributionConfig {
  const resources = ((template as Json | null)?.Resources ?? {}) as Record<string, Resource>;
  const ids = Object.keys(resources).filter((id) => resources[id]!.Type === 'AWS::CloudFront::Distribution');
  const id = distributionLogicalId ?? (ids.length === 1 ? ids[0] : undefined);
  if (!id || !ids.includes(id)) {
    throw new Error(`the template has ${ids.length} AWS::CloudFront::Distribution resources (${ids.join(', ') || 'none'}); name the one to emulate`);
  }
  const config = resources[id]!.Properties?.DistributionConfig as Json;
  const where = (part: string) => `distribution ${id}, ${part}`;
  const functions: Record<string, EdgeFunctionConfig> = {};

  const behavior = (raw: Json, pathPattern: string): CacheBehaviorConfig => {
    const at = where(`behavior ${pathPattern}`);
    if (raw.FunctionAssociations !== undefined) throw new Error(`${at}: CloudFront Functions are not emulated by the local edge`);
    if (raw.CachePolicyId === undefined) throw new Error(`${at}: legacy cache settings (ForwardedValues) are not emulated; attach a cache policy`);
    const associations: Partial<Record<EdgeEventType, FunctionAssociation>> = {};
    for (const a of (raw.LambdaFunctionAssociations ?? []) as Json[]) {
      const eventType = a.EventType as EdgeEventType;
      if (!EDGE_EVENT_TYPES.includes(eventType)) throw new Error(`${at}: unknown Lambda@Edge event type ${String(a.EventType)}`);
      const functionId = functionOf(resources, a.LambdaFunctionARN, `${at}, ${eventType}`);
      functions[functionId] ??= edgeFunction(resources, functionId);
      associations[eventType] = { functionId, includeBody: a.IncludeBody === true };
    }
    return {
      pathPattern,
      targetOriginId: String(raw.TargetOriginId),
      allowedMethods: (raw.AllowedMethods as string[] | undefined) ?? ['GET', 'HEAD'],
      cachedMethods: (raw.CachedMethods as string[] | undefined) ?? ['GET', 'HEAD'],
      cachePolicy: cachePolicy(resources, raw.CachePolicyId, at),
      originRequestPolicy: raw.OriginRequestPolicyId === undefined ? undefined : originRequestPolicy(resources, raw.OriginRequestPolicyId, at),
      functions: associations,
    };
  };

  const errorCachingMinTtl: Record<number, number> = {};
  for (const e of (config.CustomErrorResponses ?? []) as Json[]) {
    if (e.ResponsePagePath !== undefined || e.ResponseCode !== undefined) {
      throw new Error(where(`custom error response ${String(e.ErrorCode)}: custom error pages are not emulated by the local edge`));
    }
    errorCachingMinTtl[Number(e.ErrorCode)] = Number(e.ErrorCachingMinTTL ?? DEFAULT_ERROR_CACHING_MIN_TTL);
  }

  return {
    behaviors: [
      ...((config.CacheBehaviors ?? []) as Json[]).map((b) => behavior(b, String(b.PathPattern))),
      behavior(config.DefaultCacheBehavior as Json, '*'),
    ],
    origins: Object.fromEntries(((config.Origins ?? []) as Json[]).map((o) => [String(o.Id), origin(o, where(`origin ${String(o.Id)}`))])),
    errorCachingMinTtl,
    functions,
  };
}

/**
 * The behavior whose path pattern matches the request path, in order, else the default. Patterns
 * are case sensitive; `*` matches any characters (slashes included), `?` exactly one; a leading
 * `/` is optional (AWS docs: "Path pattern").
 */
export function behaviorFor(distribution: DistributionConfig, uri: string): CacheBehaviorConfig {
  const path = uri.replace(/^\//, '');
  return distribution.behaviors.find((b) => b.pathPattern === '*' || pathPatternRegExp(b.pathPattern).test(path))!;
}

function pathPatternRegExp(pattern: string): RegExp {
  const body = pattern.replace(/^\//, '').split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** The logical id a `Ref` or `Fn::GetAtt` points at, or undefined for a literal. */
function referencedId(value: unknown): string | undefined {
  const v = value as Json | null;
  if (v && typeof v === 'object' && typeof v.Ref === 'string') return v.Ref;
  const getAtt = v && typeof v === 'object' ? (v['Fn::GetAtt'] as unknown[] | undefined) : undefined;
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

function resourceOf(resources: Record<string, Resource>, value: unknown, type: string, at: string): Resource | undefined {
  const id = referencedId(value);
  if (id === undefined) return undefined;
  const resource = resources[id];
  if (resource?.Type !== type) throw new Error(`${at}: ${id} is not an ${type} of this template`);
  return resource;
}

/** Follows a function association's ARN through the version (or alias) to the function. */
function functionOf(resources: Record<string, Resource>, arn: unknown, at: string): string {
  const id = referencedId(arn);
  const resource = id === undefined ? undefined : resources[id];
  if (resource?.Type === 'AWS::Lambda::Function') return id!;
  if (resource?.Type === 'AWS::Lambda::Version' || resource?.Type === 'AWS::Lambda::Alias') return functionOf(resources, resource.Properties?.FunctionName, at);
  throw new Error(`${at}: cannot follow ${JSON.stringify(arn)} to an AWS::Lambda::Function of this template (synthesize the functions in the distribution's stack, in us-east-1)`);
}

function edgeFunction(resources: Record<string, Resource>, functionId: string): EdgeFunctionConfig {
  const p = resources[functionId]!.Properties ?? {};
  return {
    functionId,
    handler: String(p.Handler ?? 'index.handler'),
    // Lambda's defaults when the template leaves them out.
    timeoutSeconds: Number(p.Timeout ?? 3),
    memoryMb: Number(p.MemorySize ?? 128),
    description: p.Description === undefined ? undefined : String(p.Description),
  };
}

function cachePolicy(resources: Record<string, Resource>, id: unknown, at: string): CachePolicyConfig {
  if (typeof id === 'string') {
    const managed = MANAGED_CACHE_POLICIES[id];
    if (!managed) throw new Error(`${at}: managed cache policy ${id} is not known to the local edge; add its settings to MANAGED_CACHE_POLICIES in local/distribution.ts`);
    return managed;
  }
  const resource = resourceOf(resources, id, 'AWS::CloudFront::CachePolicy', `${at}, cache policy`);
  if (!resource) throw new Error(`${at}: cannot resolve the cache policy ${JSON.stringify(id)}`);
  const c = resource.Properties?.CachePolicyConfig as Json;
  const p = (c.ParametersInCacheKeyAndForwardedToOrigin ?? {}) as Json;
  return {
    minTtl: Number(c.MinTTL),
    defaultTtl: Number(c.DefaultTTL ?? 86_400),
    maxTtl: Number(c.MaxTTL ?? 31_536_000),
    headers: selection(p.HeadersConfig, 'HeaderBehavior', 'Headers', true),
    cookies: selection(p.CookiesConfig, 'CookieBehavior', 'Cookies', false),
    queryStrings: selection(p.QueryStringsConfig, 'QueryStringBehavior', 'QueryStrings', false),
    acceptEncodingGzip: p.EnableAcceptEncodingGzip === true,
    acceptEncodingBrotli: p.EnableAcceptEncodingBrotli === true,
  };
}

function originRequestPolicy(resources: Record<string, Resource>, id: unknown, at: string): OriginRequestPolicyConfig {
  if (typeof id === 'string') {
    const managed = MANAGED_ORIGIN_REQUEST_POLICIES[id];
    if (!managed) throw new Error(`${at}: managed origin request policy ${id} is not known to the local edge; add its settings to MANAGED_ORIGIN_REQUEST_POLICIES in local/distribution.ts`);
    return managed;
  }
  const resource = resourceOf(resources, id, 'AWS::CloudFront::OriginRequestPolicy', `${at}, origin request policy`);
  if (!resource) throw new Error(`${at}: cannot resolve the origin request policy ${JSON.stringify(id)}`);
  const c = resource.Properties?.OriginRequestPolicyConfig as Json;
  return {
    headers: selection(c.HeadersConfig, 'HeaderBehavior', 'Headers', true),
    cookies: selection(c.CookiesConfig, 'CookieBehavior', 'Cookies', false),
    queryStrings: selection(c.QueryStringsConfig, 'QueryStringBehavior', 'QueryStrings', false),
  };
}

function selection(config: unknown, behaviorKey: string, namesKey: string, lowerCase: boolean): NameSelection {
  const c = (config ?? {}) as Json;
  const names = ((c[namesKey] ?? []) as string[]).map((n) => (lowerCase ? n.toLowerCase() : n));
  return { behavior: (c[behaviorKey] ?? 'none') as NameSelection['behavior'], names };
}

function origin(o: Json, at: string): OriginConfig {
  const custom = o.CustomOriginConfig as Json | undefined;
  if (!custom) throw new Error(`${at}: only custom (HTTP) origins are emulated by the local edge`);
  const protocol = custom.OriginProtocolPolicy === 'https-only' ? 'https' : 'http';
  return {
    id: String(o.Id),
    domainName: String(o.DomainName),
    protocol,
    port: Number(protocol === 'https' ? custom.HTTPSPort ?? 443 : custom.HTTPPort ?? 80),
    path: String(o.OriginPath ?? ''),
    customHeaders: Object.fromEntries(((o.OriginCustomHeaders ?? []) as Json[]).map((h) => [String(h.HeaderName), String(h.HeaderValue)])),
    readTimeoutSeconds: Number(custom.OriginReadTimeout ?? 30),
    keepaliveTimeoutSeconds: Number(custom.OriginKeepaliveTimeout ?? 5),
    connectionAttempts: Number(o.ConnectionAttempts ?? 3),
    sslProtocols: (custom.OriginSSLProtocols as string[] | undefined) ?? ['TLSv1.2'],
  };
}
