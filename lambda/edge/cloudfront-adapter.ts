import type {
  Context,
  CloudFrontHeaders,
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontRequestResult,
  CloudFrontResponseEvent,
  CloudFrontResultResponse,
} from 'aws-lambda';
import { INTERNAL_HEADER_PREFIX, PENDING_SETTLEMENT_HEADER } from '../core/handoff';
import { PaymentHeaders } from '../core/header-names';
import type { LogSink } from '../core/ports';
import type { OriginFacingRequest, Paywall, PaywallResponse, RemainingTime } from '../core/paywall';

/** The part of Lambda's context the handlers use (absent when called outside Lambda). */
export type EdgeContext = Pick<Context, 'getRemainingTimeInMillis'>;

export interface EdgeHandlers {
  viewerRequest(event: CloudFrontRequestEvent, context?: EdgeContext): Promise<CloudFrontRequestResult>;
  /** Associated only on behaviors that price side-effecting methods: settles them before the origin. */
  originRequest(event: CloudFrontRequestEvent, context?: EdgeContext): Promise<CloudFrontRequestResult>;
  originResponse(event: CloudFrontResponseEvent, context?: EdgeContext): Promise<CloudFrontResultResponse>;
}

const remainingTime = (context: EdgeContext | undefined): RemainingTime | undefined =>
  context && (() => context.getRemainingTimeInMillis());

/**
 * CloudFront events in, paywall decisions out. Thin on purpose: the x402 logic lives in the core.
 * An unexpected exception answers 503 without content rather than letting CloudFront pass the
 * request on or serve an error page with the origin's body.
 */
export function cloudFrontHandlers(paywall: Paywall, log: LogSink): EdgeHandlers {
  return {
    async viewerRequest(event, context) {
      const { request, config } = event.Records[0].cf;
      // First, before anything reads them: a client must never be able to inject hand-off state.
      for (const name of Object.keys(request.headers)) {
        if (name.startsWith(INTERNAL_HEADER_PREFIX)) delete request.headers[name];
      }
      // The origin's usage report travels on its response only: a client's copy would reach the
      // origin as if the edge had sent it (an origin framework echoing request headers, say).
      delete request.headers[PaymentHeaders.settlementOverrides];
      try {
        const outcome = await paywall.onViewerRequest({
          method: request.method,
          uri: request.uri,
          querystring: request.querystring,
          host: request.headers.host?.[0]?.value ?? config.distributionDomainName,
          clientIp: request.clientIp,
          header: (name) => request.headers[name]?.[0]?.value,
        }, remainingTime(context));
        switch (outcome.kind) {
          case 'pass':
            return request;
          case 'forward':
            // The signed authorization stays at the edge: the cache key and the origin get the
            // derived payment id instead (an origin could otherwise settle it behind our back).
            delete request.headers[PaymentHeaders.signatureV2];
            delete request.headers[PaymentHeaders.signatureV1];
            request.uri = outcome.uri;
            setHeaders(request.headers, outcome.setHeaders);
            return request;
          case 'respond':
            return toCloudFrontResponse(outcome.response);
        }
      } catch (error) {
        return failClosed(log, 'viewer-request', error);
      }
    },

    async originRequest(event, context) {
      const { request } = event.Records[0].cf;
      try {
        const outcome = await paywall.onOriginRequest(originFacing(request), remainingTime(context));
        switch (outcome.kind) {
          case 'pass':
            return request;
          case 'forward':
            setHeaders(request.headers, outcome.setHeaders);
            return request;
          case 'respond':
            return toCloudFrontResponse(outcome.response);
        }
      } catch (error) {
        return failClosed(log, 'origin-request', error);
      }
    },

    async originResponse(event, context) {
      const { request, response } = event.Records[0].cf;
      // The origin's usage report is for the edge alone: never passed on to the viewer or a cache.
      const settlementOverrides = response.headers[PaymentHeaders.settlementOverrides]?.[0]?.value;
      delete response.headers[PaymentHeaders.settlementOverrides];
      try {
        const outcome = await paywall.onOriginResponse(originFacing(request), Number(response.status), remainingTime(context), settlementOverrides);
        switch (outcome.kind) {
          case 'pass':
            return response;
          case 'release':
            setHeaders(response.headers, outcome.setHeaders);
            // A paid response is the payer's: shared caches must not hand it to the next agent.
            setHeaders(response.headers, { 'cache-control': 'private, no-store' });
            return response;
          case 'respond':
            return toCloudFrontResponse(outcome.response, response.headers);
        }
      } catch (error) {
        return failClosed(log, 'origin-response', error, response.headers);
      }
    },
  };
}

/** What the origin-facing triggers read of the request CloudFront sends to the origin. */
function originFacing(request: CloudFrontRequest): OriginFacingRequest {
  return { method: request.method, uri: request.uri, handoff: request.headers[PENDING_SETTLEMENT_HEADER]?.[0]?.value };
}

/** An unexpected exception: logged, and answered with a 503 instead of content. */
function failClosed(log: LogSink, trigger: string, error: unknown, originHeaders?: CloudFrontHeaders): CloudFrontResultResponse {
  log({ event: 'x402.handler_error', trigger, error: String(error) });
  return toCloudFrontResponse(unavailable(), originHeaders);
}

function unavailable(): PaywallResponse {
  return {
    status: 503,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '5' },
    body: JSON.stringify({ x402Version: 2, error: 'edge_unavailable', message: 'the payment edge failed; nothing was charged' }),
  };
}

function setHeaders(headers: CloudFrontHeaders, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    headers[name.toLowerCase()] = [{ key: name, value }];
  }
}

/**
 * A generated response. In origin-response pass the origin's headers: CloudFront refuses (502) a
 * result that drops its read-only Transfer-Encoding or Via, so they are kept when the body is replaced.
 */
function toCloudFrontResponse(response: PaywallResponse, originHeaders?: CloudFrontHeaders): CloudFrontResultResponse {
  const headers: CloudFrontHeaders = {};
  for (const name of ['transfer-encoding', 'via']) {
    if (originHeaders?.[name]) headers[name] = originHeaders[name];
  }
  setHeaders(headers, response.headers);
  return {
    status: String(response.status),
    statusDescription: STATUS_TEXT[response.status] ?? '',
    headers,
    body: response.body,
    bodyEncoding: 'text',
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  402: 'Payment Required',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};
