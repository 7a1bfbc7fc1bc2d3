import { signedInPayer } from '../core/passes/sign-in-proof';
import { ExactEvmPrecheck } from '../core/precheck';
import { loadSecp256k1 } from '../core/secp256k1';
import { bakedConfig } from './baked-config';
import { createEdgeRuntime } from './runtime';

// Compiled and instantiated while the module loads (Lambda's init phase), not by the first paid
// request; synchronously, so the init phase (and bench/cold-start.ts) counts all of it.
try {
  loadSecp256k1();
} catch {
  // Tried again where it is used: that payment fails closed (503) and the error is logged.
}

const config = bakedConfig();

/** CloudFront viewer-request trigger: 402, or verify + reserve (or admit a pass, or a signed-in pass holder) and forward. */
export const handler = createEdgeRuntime(config, { precheck: new ExactEvmPrecheck(config), signInVerifier: signedInPayer }).viewerRequest;
