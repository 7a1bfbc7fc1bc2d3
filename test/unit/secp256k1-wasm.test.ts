/** The libsecp256k1 WASM the handlers embed is the installed package's binary, which its export names are bound to. */
import { readFileSync } from 'node:fs';
import { embeddedWasmSource, EMBEDDED_WASM_MODULE, PACKAGE_WASM } from '../../scripts/embed-secp256k1-wasm';

it('embeds exactly the WASM of the installed @solar-republic/wasm-secp256k1 (else run npm run build:secp256k1)', () => {
  expect(readFileSync(EMBEDDED_WASM_MODULE, 'utf8') === embeddedWasmSource(readFileSync(PACKAGE_WASM))).toBe(true);
});
