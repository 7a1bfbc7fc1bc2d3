import { bakedConfig } from './baked-config';
import { createEdgeRuntime } from './runtime';

/** CloudFront viewer-request trigger: 402, or verify + reserve and forward. */
export const handler = createEdgeRuntime(bakedConfig()).viewerRequest;
