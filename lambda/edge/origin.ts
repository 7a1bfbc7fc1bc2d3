import type { CloudFrontRequestEvent, CloudFrontRequestResult, CloudFrontResponseEvent, CloudFrontResultResponse } from 'aws-lambda';
import { bakedConfig } from './baked-config';
import type { EdgeContext } from './cloudfront-adapter';
import { createEdgeRuntime } from './runtime';

const runtime = createEdgeRuntime(bakedConfig());

/**
 * Both origin-facing CloudFront triggers. origin-request settles a side-effecting paid request
 * before the origin runs; origin-response settles on 2xx and releases the content, else releases
 * the nonce. They run the same code, so the package ships it once, and each call goes to the
 * trigger CloudFront names in the event.
 */
export function handler(event: CloudFrontRequestEvent | CloudFrontResponseEvent, context?: EdgeContext): Promise<CloudFrontRequestResult | CloudFrontResultResponse> {
  const trigger = event.Records[0]?.cf.config.eventType;
  if (trigger === 'origin-response') return runtime.originResponse(event as CloudFrontResponseEvent, context);
  if (trigger === 'origin-request') return runtime.originRequest(event as CloudFrontRequestEvent, context);
  // Only a function associated with another trigger gets here: CloudFront answers an error, no content.
  throw new Error(`cdk-x402: the origin bundle serves the origin-request and origin-response triggers, not ${String(trigger)}`);
}
