import { bakedConfig } from './baked-config';
import { createEdgeRuntime } from './runtime';

/** CloudFront origin-request trigger: settles a side-effecting paid request before the origin runs. */
export const handler = createEdgeRuntime(bakedConfig()).originRequest;
