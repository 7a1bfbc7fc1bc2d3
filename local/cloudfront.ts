/**
 * The local edge: a loopback HTTP server that replays Amazon CloudFront's request flow around our
 * two Lambda@Edge handlers, so the same handler code runs locally as in the deployed stack.
 *
 *   client → WAF (emulated) → viewer-request λ → origin → origin-response λ → client
 *
 * What is reproduced, because handlers depend on it:
 * - event shapes (`Records[0].cf.config` + `request` / `response`), header arrays keyed by
 *   lower-case name with the original casing in `key`, the raw undecoded `uri` and the querystring
 *   without `?`; events and results go through JSON, as they do through the Lambda service;
 * - CloudFront's validation of function results: disallowed headers, read-only headers, header
 *   shape, size of generated responses (40 KB viewer, 1 MB origin) → 502;
 * - a function error or timeout (5 s viewer, 30 s origin) → 503; origin unreachable → 502;
 *   origin timeout → 504, and then origin-response is not invoked (it only runs on a response);
 * - origin-response sees no origin body; a `body` in its result replaces the origin's body.
 * Not reproduced: caching (paid behaviors disable it), compression, HTTP/2, custom error pages.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type {
  CloudFrontHeaders,
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontRequestResult,
  CloudFrontResponseEvent,
  CloudFrontResultResponse,
} from 'aws-lambda';
import { defaultWafEmulation, type WafEmulation } from './waf-emulation';

export interface LocalEdgeOptions {
  viewerRequest: (event: CloudFrontRequestEvent) => Promise<CloudFrontRequestResult>;
  originResponse: (event: CloudFrontResponseEvent) => Promise<CloudFrontResultResponse>;
  /** Origin base URL, e.g. http://127.0.0.1:PORT (a path prefix acts as the origin path). */
  originUrl: string;
  /** Default: {@link defaultWafEmulation}. */
  waf?: WafEmulation;
  /** 0 (default) = random free port. */
  port?: number;
  /** `cf.config.distributionDomainName`; default 'd111111abcdef8.cloudfront.net'. */
  distributionDomainName?: string;
  /** `cf.config.distributionId`; default 'EDFDVBD6EXAMPLE'. */
  distributionId?: string;
  /** Origin response timeout (time to first byte); default 30000. On timeout → 504. */
  originTimeoutMs?: number;
  /** Lambda@Edge function timeouts; defaults 5000 (viewer) and 30000 (origin), the service maxima. */
  functionTimeoutMs?: { viewerRequest?: number; originResponse?: number };
  /** The trigger's "include body" option: expose the request body to viewer-request. Default off. */
  includeBody?: boolean;
  /**
   * Viewer headers forwarded to the origin, as an origin request policy would: 'allViewer'
   * (default, like the managed AllViewerExceptHostHeader policy) or an allow-list of names.
   * The origin-response event's `request` only carries forwarded headers, so a hand-off header
   * from viewer-request must be in this list to reach origin-response.
   */
  originRequestHeaders?: 'allViewer' | string[];
  log?: (line: string) => void;
}

export interface LocalEdge {
  url: string;
  port: number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// CloudFront header rules (AWS docs: "Restrictions on all edge functions" → HTTP headers)

/** Not exposed to functions and may not be added by them (adding one fails validation → 502). */
const DISALLOWED_HEADERS = new Set([
  'connection', 'expect', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'proxy-connection', 'trailer', 'upgrade', 'x-amzn-auth', 'x-amzn-cf-billing', 'x-amzn-cf-id',
  'x-amzn-cf-xff', 'x-amzn-errortype', 'x-amzn-fle-profile', 'x-amzn-header-count',
  'x-amzn-header-order', 'x-amzn-lambda-integration-tag', 'x-amzn-requestid', 'x-cache',
  'x-forwarded-proto', 'x-real-ip',
]);
const DISALLOWED_PREFIXES = ['x-accel-', 'x-amz-cf-', 'x-edge-'];

/** Visible to functions but may not be added, changed or removed (→ 502). */
const READ_ONLY_HEADERS = {
  'viewer-request': ['content-length', 'host', 'transfer-encoding', 'via'],
  'origin-response': ['transfer-encoding', 'via'],
} as const;

/** Hop-by-hop headers a proxy never forwards. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

const VIEWER_GENERATED_LIMIT = 40 * 1024;
const ORIGIN_GENERATED_LIMIT = 1024 * 1024;
const INCLUDE_BODY_LIMIT = 40 * 1024; // viewer-request body is truncated to this for the function
const MAX_CLIENT_BODY = 20 * 1024 * 1024;

export function isDisallowedHeader(name: string): boolean {
  const n = name.toLowerCase();
  return DISALLOWED_HEADERS.has(n) || DISALLOWED_PREFIXES.some((p) => n.startsWith(p));
}

/**
 * Node headers → CloudFront headers. Pass `req.rawHeaders` to keep the original casing and
 * order of repeated headers; an `IncomingHttpHeaders` object only has lower-case names.
 */
export function toCloudFrontHeaders(headers: readonly string[] | http.IncomingHttpHeaders): CloudFrontHeaders {
  const out: CloudFrontHeaders = {};
  const add = (key: string, value: string) => {
    (out[key.toLowerCase()] ??= []).push({ key, value });
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i]!, headers[i + 1]!);
  } else {
    for (const [key, value] of Object.entries(headers as http.IncomingHttpHeaders)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) add(key, v);
    }
  }
  return out;
}

/**
 * CloudFront headers → Node outgoing headers, named with the casing of the first entry's `key`
 * (falling back to the lower-case name); repeated values become an array (one line each).
 */
export function fromCloudFrontHeaders(headers: CloudFrontHeaders | undefined): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, entries] of Object.entries(headers ?? {})) {
    if (!entries?.length) continue;
    const key = entries[0]!.key ?? name;
    const values = entries.map((e) => e.value);
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

function withoutHeaders(headers: CloudFrontHeaders, drop: (name: string) => boolean): CloudFrontHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([n]) => !drop(n)));
}

/**
 * Checks a function's headers the way CloudFront validates them; returns an error or undefined.
 * Lower-case property names, arrays of `{ key?, value }` with string values, `key` matching the
 * name, and no disallowed header.
 */
export function validateCloudFrontHeaders(headers: unknown): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return 'headers must be an object';
  for (const [name, entries] of Object.entries(headers)) {
    if (name !== name.toLowerCase()) return `header name "${name}" must be lower case`;
    if (isDisallowedHeader(name)) return `the function added a disallowed header "${name}"`;
    if (!Array.isArray(entries)) return `header "${name}" must be an array of { key, value }`;
    for (const e of entries as unknown[]) {
      const entry = e as { key?: unknown; value?: unknown } | null;
      if (typeof entry !== 'object' || entry === null || typeof entry.value !== 'string') {
        return `header "${name}" has an entry without a string value`;
      }
      if (entry.key !== undefined && (typeof entry.key !== 'string' || entry.key.toLowerCase() !== name)) {
        return `header "${name}" has a key "${String(entry.key)}" that does not match its name`;
      }
    }
  }
  return undefined;
}

function readOnlyViolation(before: CloudFrontHeaders, after: CloudFrontHeaders | undefined, names: readonly string[]): string | undefined {
  const values = (h: CloudFrontHeaders | undefined, n: string) => JSON.stringify((h?.[n] ?? []).map((e) => e.value));
  const changed = names.find((n) => values(before, n) !== values(after, n));
  return changed && `the function tried to add, delete, or change the read-only header "${changed}"`;
}

/** Splits a raw request target into CloudFront's `uri` and `querystring` (without '?'), undecoded. */
export function splitRequestTarget(target: string): { uri: string; querystring: string } {
  const q = target.indexOf('?');
  return q < 0 ? { uri: target, querystring: '' } : { uri: target.slice(0, q), querystring: target.slice(q + 1) };
}

// ---------------------------------------------------------------------------------------------
// Lambda invocation

type Invocation = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Invokes a handler the way the Lambda service does: the event and the result cross a JSON
 * boundary (so `undefined` fields vanish and a handler can't keep references to our objects),
 * and the function is cut off at its timeout.
 */
async function invoke<E>(fn: (event: E) => Promise<unknown>, event: E, timeoutMs: number): Promise<Invocation> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)), timeoutMs);
  });
  try {
    const value = await Promise.race([Promise.resolve().then(() => fn(JSON.parse(JSON.stringify(event)) as E)), timeout]);
    const json = JSON.stringify(value);
    return { ok: true, value: json === undefined ? null : JSON.parse(json) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Validates a generated/updated response; returns an error or undefined. */
function validateResponse(result: CloudFrontResultResponse, limit: number): string | undefined {
  const status = Number(result.status);
  if (!Number.isInteger(status) || status < 100 || status > 599) return `invalid status "${String(result.status)}"`;
  const headerError = validateCloudFrontHeaders(result.headers);
  if (headerError) return headerError;
  if (result.body !== undefined && typeof result.body !== 'string') return 'body must be a string';
  if (result.bodyEncoding !== undefined && result.bodyEncoding !== 'text' && result.bodyEncoding !== 'base64') {
    return `invalid bodyEncoding "${String(result.bodyEncoding)}"`;
  }
  // Size as CloudFront counts it for generated responses: headers and body.
  let size = Buffer.byteLength(result.body ?? '');
  for (const [name, entries] of Object.entries(result.headers ?? {})) {
    for (const e of entries) size += Buffer.byteLength(e.key ?? name) + Buffer.byteLength(e.value);
  }
  if (size > limit) return `generated response is ${size} bytes, over the ${limit / 1024} KB limit`;
  return undefined;
}

function responseBody(result: CloudFrontResultResponse): Buffer {
  return Buffer.from(result.body ?? '', result.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startLocalEdge(opts: LocalEdgeOptions): Promise<LocalEdge> {
  const origin = new URL(opts.originUrl);
  const originPath = origin.pathname.replace(/\/$/, '');
  const waf = opts.waf ?? defaultWafEmulation;
  const distributionDomainName = opts.distributionDomainName ?? 'd111111abcdef8.cloudfront.net';
  const distributionId = opts.distributionId ?? 'EDFDVBD6EXAMPLE';
  const originTimeoutMs = opts.originTimeoutMs ?? 30_000;
  const viewerTimeoutMs = opts.functionTimeoutMs?.viewerRequest ?? 5_000;
  const originFnTimeoutMs = opts.functionTimeoutMs?.originResponse ?? 30_000;
  const log = opts.log ?? (() => {});
  const forwarded = opts.originRequestHeaders ?? 'allViewer';
  const isForwarded = (name: string) =>
    forwarded === 'allViewer' || forwarded.some((f) => f.toLowerCase() === name);
  // One edge "server" id, as in CloudFront's `Via: 1.1 <id>.cloudfront.net (CloudFront)`.
  const via = `1.1 ${randomBytes(16).toString('hex')}.cloudfront.net (CloudFront)`;
  // No keep-alive to the origin: nothing lingers after close() (tests, Ctrl-C).
  const agent = new http.Agent({ keepAlive: false });

  const config = (eventType: 'viewer-request' | 'origin-response', requestId: string) =>
    ({ distributionDomainName, distributionId, eventType, requestId });

  function edgeHeaders(requestId: string, xCache: string): http.OutgoingHttpHeaders {
    return { Via: via, 'X-Cache': xCache, 'X-Amz-Cf-Pop': 'LOCAL-EMU', 'X-Amz-Cf-Id': requestId };
  }

  /** CloudFront's own error page (502/503/504, WAF blocks use the body WAF gives). */
  function sendError(res: http.ServerResponse, requestId: string, status: number, reason: string) {
    const body =
      `<!DOCTYPE HTML><HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>\n` +
      `<H1>${status} ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n<P>${reason}</P>\n` +
      `<P>Generated by the cdk-x402 local edge (CloudFront emulation). Request ID: ${requestId}</P>\n</BODY></HTML>\n`;
    res.writeHead(status, {
      'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body), ...edgeHeaders(requestId, 'Error from cloudfront'),
    });
    res.end(body);
  }

  function sendResult(res: http.ServerResponse, requestId: string, result: CloudFrontResultResponse, xCache: string) {
    const body = responseBody(result);
    const headers = fromCloudFrontHeaders(withoutHeaders(result.headers ?? {}, (n) => HOP_BY_HOP.has(n) || n === 'content-length'));
    res.writeHead(Number(result.status), result.statusDescription || undefined, {
      ...headers, 'Content-Length': body.length, ...edgeHeaders(requestId, xCache),
    });
    res.end(body);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomBytes(42).toString('base64url'); // 56 chars, like CloudFront's ids
    const started = Date.now();
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const line = (msg: string) => log(`[local-edge] ${requestId.slice(0, 8)} ${method} ${target} ${msg} (${Date.now() - started} ms)`);

    if (!target.startsWith('/')) {
      line('→ 400 (not an origin-form request target)');
      return sendError(res, requestId, 400, 'Bad request.');
    }
    const body = await readBody(req);
    if (body === undefined) {
      line('→ 413 (request body too large)');
      return sendError(res, requestId, 413, 'Request body too large.');
    }

    // a. WAF runs before any Lambda@Edge function.
    const verdict = waf.evaluate({ method, uri: splitRequestTarget(target).uri, headers: req.headers });
    if (verdict.action === 'block') {
      line(`→ ${verdict.status} (blocked by the WAF emulation)`);
      res.writeHead(verdict.status, {
        'Content-Type': verdict.contentType ?? 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(verdict.body),
        ...edgeHeaders(requestId, 'Error from cloudfront'),
      });
      res.end(verdict.body);
      return;
    }
    const insertedNames = Object.keys(verdict.insertHeaders);
    if (insertedNames.length) {
      log(`[waf-emulation] ${requestId.slice(0, 8)} inserted ${insertedNames.map((n) => `${n}: ${verdict.insertHeaders[n]}`).join(', ')}`);
    }

    // b. The viewer-request event: viewer headers (minus what CloudFront hides) + WAF insertions.
    const headers = withoutHeaders(toCloudFrontHeaders(req.rawHeaders), isDisallowedHeader);
    for (const [name, value] of Object.entries(verdict.insertHeaders)) {
      headers[name.toLowerCase()] = [{ key: name, value }]; // WAF overwrites a same-named header
    }
    const clientIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const viewerRequest: CloudFrontRequest = { clientIp, method, ...splitRequestTarget(target), headers };
    if (opts.includeBody) {
      const exposed = body.subarray(0, INCLUDE_BODY_LIMIT);
      viewerRequest.body = {
        action: 'read-only', data: exposed.toString('base64'), encoding: 'base64', inputTruncated: exposed.length < body.length,
      };
    }
    const viewerEvent: CloudFrontRequestEvent = { Records: [{ cf: { config: config('viewer-request', requestId), request: viewerRequest } }] };

    // c. viewer-request: a generated response goes straight back; a request goes on.
    const vr = await invoke(opts.viewerRequest, viewerEvent, viewerTimeoutMs);
    if (!vr.ok) {
      line(`→ 503 (viewer-request function error: ${vr.error})`);
      return sendError(res, requestId, 503, 'The Lambda function associated with the CloudFront distribution failed (LambdaExecutionError).');
    }
    const result = vr.value as CloudFrontResultResponse | CloudFrontRequest | null;
    const invalid = (why: string) => {
      line(`→ 502 (viewer-request result failed validation: ${why})`);
      sendError(res, requestId, 502, `The Lambda function returned an invalid response (LambdaValidationError): ${why}.`);
    };
    if (result === null || typeof result !== 'object') return invalid('no request or response returned');
    if ('status' in result) {
      const why = validateResponse(result, VIEWER_GENERATED_LIMIT);
      if (why) return invalid(why);
      line(`→ ${result.status} (generated by viewer-request)`);
      return sendResult(res, requestId, result, 'LambdaGeneratedResponse from cloudfront');
    }
    const why = validateRequest(viewerRequest, result);
    if (why) return invalid(why);
    let originBody = body;
    if (result.body?.action === 'replace') {
      originBody = Buffer.from(result.body.data ?? '', result.body.encoding === 'base64' ? 'base64' : 'utf8');
    }

    // d. The origin request, with the headers the origin request policy forwards.
    const fwd = withoutHeaders(result.headers, (n) => !isForwarded(n) || HOP_BY_HOP.has(n) || n === 'host' || n === 'content-length' || n === 'via');
    const xff = [...(fwd['x-forwarded-for'] ?? []).map((e) => e.value), clientIp].join(', ');
    const originHeaders: CloudFrontHeaders = {
      ...fwd,
      host: [{ key: 'Host', value: origin.host }],
      'x-forwarded-for': [{ key: 'X-Forwarded-For', value: xff }],
      via: [{ key: 'Via', value: via }],
    };
    if (!fwd['user-agent']) originHeaders['user-agent'] = [{ key: 'User-Agent', value: 'Amazon CloudFront' }];
    const path = originPath + result.uri + (result.querystring ? `?${result.querystring}` : '');
    const sent = await requestOrigin(method, path, {
      ...fromCloudFrontHeaders(originHeaders),
      ...(originBody.length || !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(method) ? { 'Content-Length': originBody.length } : {}),
      'X-Amz-Cf-Id': requestId, // sent to the origin, but hidden from functions (disallowed)
    }, originBody);
    if (!sent.ok) {
      line(`→ ${sent.status} (origin: ${sent.error}; origin-response not invoked)`);
      return sendError(res, requestId, sent.status, sent.status === 504
        ? 'CloudFront attempted to establish a connection with the origin, but it did not respond in time (OriginReadTimeout).'
        : 'CloudFront wasn\'t able to connect to the origin (OriginConnectError).');
    }
    const originRes = sent.res;

    // e. origin-response: sees status and headers only; may replace the body.
    const response = {
      status: String(originRes.statusCode ?? 502),
      statusDescription: originRes.statusMessage ?? '',
      headers: withoutHeaders(toCloudFrontHeaders(originRes.rawHeaders), isDisallowedHeader),
    };
    const originRequest: CloudFrontResponseEvent['Records'][0]['cf']['request'] = {
      clientIp,
      method,
      uri: result.uri,
      querystring: result.querystring,
      headers: originHeaders,
      origin: {
        custom: {
          customHeaders: {}, domainName: origin.hostname, keepaliveTimeout: 5, path: originPath,
          port: Number(origin.port || (origin.protocol === 'https:' ? 443 : 80)),
          protocol: origin.protocol === 'https:' ? 'https' : 'http',
          readTimeout: Math.ceil(originTimeoutMs / 1000), sslProtocols: ['TLSv1.2'],
        },
      },
    };
    const responseEvent: CloudFrontResponseEvent = {
      Records: [{ cf: { config: config('origin-response', requestId), request: originRequest, response } }],
    };
    const or = await invoke(opts.originResponse, responseEvent, originFnTimeoutMs);
    const discardOrigin = () => originRes.destroy();
    if (!or.ok) {
      discardOrigin();
      line(`→ 503 (origin-response function error: ${or.error})`);
      return sendError(res, requestId, 503, 'The Lambda function associated with the CloudFront distribution failed (LambdaExecutionError).');
    }
    const updated = or.value as CloudFrontResultResponse | null;
    const bad = updated === null || typeof updated !== 'object'
      ? 'no response returned'
      : validateResponse(updated, ORIGIN_GENERATED_LIMIT) ?? readOnlyViolation(response.headers, updated.headers, READ_ONLY_HEADERS['origin-response']);
    if (bad || !updated) {
      discardOrigin();
      line(`→ 502 (origin-response result failed validation: ${bad})`);
      return sendError(res, requestId, 502, `The Lambda function returned an invalid response (LambdaValidationError): ${bad}.`);
    }
    if (updated.body !== undefined) {
      // A body in the result replaces the origin's (how a 402 or an error page replaces content).
      discardOrigin();
      line(`→ ${updated.status} (origin ${response.status}; body replaced by origin-response)`);
      return sendResult(res, requestId, updated, 'Miss from cloudfront');
    }
    line(`→ ${updated.status} (origin ${response.status})`);
    const outHeaders = fromCloudFrontHeaders(withoutHeaders(updated.headers ?? {}, (n) => HOP_BY_HOP.has(n)));
    res.writeHead(Number(updated.status), updated.statusDescription || undefined, { ...outHeaders, ...edgeHeaders(requestId, 'Miss from cloudfront') });
    originRes.pipe(res);
    originRes.on('error', () => res.destroy()); // origin died mid-body: the viewer sees a cut response
  }

  /** Rules CloudFront applies to a request returned by viewer-request. */
  function validateRequest(original: CloudFrontRequest, r: CloudFrontRequest): string | undefined {
    if (typeof r.uri !== 'string' || !r.uri.startsWith('/')) return 'uri must be a string starting with "/"';
    if (typeof r.querystring !== 'string') return 'querystring must be a string';
    if (r.method !== original.method) return 'method is read-only';
    if (r.headers === undefined) return 'headers missing';
    return validateCloudFrontHeaders(r.headers) ?? readOnlyViolation(original.headers, r.headers, READ_ONLY_HEADERS['viewer-request']);
  }

  function requestOrigin(method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer):
    Promise<{ ok: true; res: http.IncomingMessage } | { ok: false; status: 502 | 504; error: string }> {
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const done = (v: Parameters<typeof resolve>[0]) => { if (!settled) { settled = true; clearTimeout(timer); resolve(v); } };
      let creq: http.ClientRequest;
      try {
        creq = http.request({ host: origin.hostname, port: origin.port || 80, method, path, headers, agent });
      } catch (err) {
        // e.g. a uri with characters Node refuses to send; CloudFront would refuse it too
        return done({ ok: false, status: 502, error: String(err) });
      }
      timer = setTimeout(() => {
        done({ ok: false, status: 504, error: `no response within ${originTimeoutMs} ms` });
        creq.destroy();
      }, originTimeoutMs);
      creq.on('response', (res) => done({ ok: true, res }));
      creq.on('error', (err) => done({ ok: false, status: 502, error: err.message }));
      creq.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`[local-edge] internal error: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) sendError(res, 'internal', 502, 'Local edge internal error.');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log(`[local-edge] CloudFront emulation on http://127.0.0.1:${port} → origin ${opts.originUrl}`);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
      agent.destroy();
    }),
  };
}

/** Buffers the client's body (CloudFront also receives it before forwarding); undefined if too big. */
function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_CLIENT_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size <= MAX_CLIENT_BODY ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}
