import { loadSecp256k1 } from '../core/secp256k1';
import { bakedConfig } from './baked-config';
import { createEdgeRuntime } from './runtime';

// Instantiated while the module loads (Lambda's init phase), not by the first paid request. A
// failure surfaces where the instance is used: the payment fails closed (503) and is logged.
loadSecp256k1().catch(() => undefined);

/** CloudFront viewer-request trigger: 402, or verify + reserve and forward. */
export const handler = createEdgeRuntime(bakedConfig()).viewerRequest;
