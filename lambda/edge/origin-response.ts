import { bakedConfig } from './baked-config';
import { createEdgeRuntime } from './runtime';

/** CloudFront origin-response trigger: settle on 2xx and release the content, else release the nonce. */
export const handler = createEdgeRuntime(bakedConfig()).originResponse;
