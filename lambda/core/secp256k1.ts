/**
 * Public-key recovery of 65-byte EOA signatures with libsecp256k1 compiled to WebAssembly (the
 * binary of `@solar-republic/wasm-secp256k1`, embedded by scripts/embed-secp256k1-wasm.ts): no
 * native addon, nothing to fetch at run time, about 4× faster than pure-JS recovery.
 *
 * The module is compiled and instantiated synchronously (~5 ms: V8 compiles each function on its
 * first call), bound here to the few exports recovery needs. The package's own entry would add
 * ~20 ms of JavaScript base64 decoding and gunzip, and its wrapper touches the global `Response`,
 * which makes Node load its fetch implementation (~20 ms) at init (figures at one vCPU).
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { SECP256K1_WASM_BASE64 } from './secp256k1-wasm';

/** The secp256k1 group order n; a signature with s > n/2 is the malleable twin of a low-s one. */
export const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_ORDER = SECP256K1_ORDER >> 1n;
const SIGNATURE_HEX_LENGTH = 2 + 65 * 2;

/**
 * The module's minified export names, as the package's generated bindings map them
 * (dist/headless.js `map_wasm_exports`); they change with the binary, which
 * test/unit/signature-check.test.ts exercises against viem.
 */
interface Secp256k1Exports {
  /** memory */
  readonly f: WebAssembly.Memory;
  /** static constructors */
  readonly g: () => void;
  /** malloc(size) */
  readonly h: (size: number) => number;
  /** secp256k1_context_create(flags) */
  readonly j: (flags: number) => number;
  /** secp256k1_ec_pubkey_serialize(ctx, output, outputLength, pubkey, flags) */
  readonly l: (ctx: number, output: number, outputLength: number, pubkey: number, flags: number) => number;
  /** secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, sig, input64, recid) */
  readonly w: (ctx: number, signature: number, input64: number, recoveryId: number) => number;
  /** secp256k1_ecdsa_recover(ctx, pubkey, sig, msghash32) */
  readonly z: (ctx: number, pubkey: number, signature: number, digest: number) => number;
}

const CONTEXT_VERIFY = 0x101;
const EC_UNCOMPRESSED = 0x2;
const UNCOMPRESSED_KEY_BYTES = 65;

/** Recovers the uncompressed public key (65 bytes) of a compact signature `r ‖ s`, or undefined. */
export type RecoverPublicKey = (signature64: Uint8Array, digest: Uint8Array, recoveryBit: number) => Uint8Array | undefined;

/** Signed by viem with a fixed key over keccak256("cdk-x402: libsecp256k1 self-test"). */
const KNOWN_ANSWER = {
  digest: Buffer.from('df57e3e7aa8f6466e541cff03566a9fa44355b39ad186b55ba053b278caee9e6', 'hex'),
  signature: '0xc48e56e24ccf4e3b6ef6aca852982ee3031abdf67a888282eeccd37b6d57703d015957eef325ef90063508f094e5852f46025d8b9979b062a0d4eda7bcbf71ab1c',
  signer: '0x2c7536e3605d9c16a7a3d7b1898e529396a65c23',
};

let recover: RecoverPublicKey | undefined;

/**
 * libsecp256k1, instantiated once per process (container), then checked on a known signature: that
 * proves the binding matches the binary, and compiles the recovery path now (V8 compiles a WASM
 * function on its first call and optimizes the hot ones in the background: most of the WASM's
 * cost). viewer-request calls it while its module loads, so Lambda's init phase pays for all of
 * it rather than the first paid request.
 */
export function loadSecp256k1(): RecoverPublicKey {
  if (recover) return recover;
  const instance = instantiate();
  if (signerWith(instance, KNOWN_ANSWER.digest, KNOWN_ANSWER.signature)?.address !== KNOWN_ANSWER.signer) {
    throw new Error('libsecp256k1 recovers the wrong signer from a known signature: the bindings in lambda/core/secp256k1.ts do not match its WASM');
  }
  return (recover = instance);
}

function instantiate(): RecoverPublicKey {
  let heap = new Uint8Array(0);
  let lastOutput = '';
  const imports = {
    a: {
      // fd_write(fd, iov, iovcnt, written): libsecp256k1 prints only before it aborts.
      a(_fd: number, iov: number, iovCount: number, written: number): number {
        const words = new Uint32Array(heap.buffer);
        let bytes = 0;
        lastOutput = '';
        for (let i = 0; i < iovCount; i++) {
          const [start, length] = [words[(iov >> 2) + 2 * i], words[(iov >> 2) + 2 * i + 1]];
          lastOutput += Buffer.from(heap.subarray(start, start + length)).toString('utf8');
          bytes += length;
        }
        words[written >> 2] = bytes;
        return 0;
      },
      b(): never {
        throw new Error('libsecp256k1: out of memory');
      },
      // fd_seek, fd_close: not supported (ESPIPE, ENOSYS), as in the package's bindings.
      c: () => 70,
      d: () => 52,
      e(): never {
        throw new Error(`libsecp256k1 aborted: ${lastOutput.trim()}`);
      },
    },
  };
  const module = new WebAssembly.Module(Buffer.from(SECP256K1_WASM_BASE64, 'base64'));
  const wasm = new WebAssembly.Instance(module, imports).exports as unknown as Secp256k1Exports;
  // The heap never grows (the resize import refuses), so one view stays valid.
  heap = new Uint8Array(wasm.f.buffer);
  wasm.g();
  const context = wasm.j(CONTEXT_VERIFY);
  const input = wasm.h(64);
  const digestAt = wasm.h(32);
  const signatureAt = wasm.h(65);
  const publicKeyAt = wasm.h(64);
  const output = wasm.h(UNCOMPRESSED_KEY_BYTES);
  const outputLength = wasm.h(4);
  return (signature64, digest, recoveryBit) => {
    heap.set(signature64, input);
    heap.set(digest, digestAt);
    if (wasm.w(context, signatureAt, input, recoveryBit) !== 1) return undefined;
    if (wasm.z(context, publicKeyAt, signatureAt, digestAt) !== 1) return undefined;
    new DataView(heap.buffer).setUint32(outputLength, UNCOMPRESSED_KEY_BYTES, true);
    wasm.l(context, output, outputLength, publicKeyAt, EC_UNCOMPRESSED);
    return heap.slice(output, output + UNCOMPRESSED_KEY_BYTES);
  };
}

/** Who signed `digest`, and how the signature is written (USDC refuses the last two forms). */
export interface RecoveredSigner {
  /** Lower-case 0x-address. */
  readonly address: string;
  /** s in the upper half of the order: the malleable twin of a valid signature. */
  readonly highS: boolean;
  /** v written as the recovery bit (0 or 1) instead of 27 or 28. */
  readonly vIsParity: boolean;
}

/**
 * The signer of a 65-byte `r ‖ s ‖ v` signature over `digest`, or undefined when it has another
 * length, a `v` outside {0, 1, 27, 28}, r or s outside [1, n), or recovers no key: the verdicts of
 * viem's `recoverAddress`, which accepts the same forms.
 */
export function recoverSigner(digest: Uint8Array, signature: string): RecoveredSigner | undefined {
  return signerWith(loadSecp256k1(), digest, signature);
}

function signerWith(recoverPublicKey: RecoverPublicKey, digest: Uint8Array, signature: string): RecoveredSigner | undefined {
  if (signature.length !== SIGNATURE_HEX_LENGTH) return undefined;
  const bytes = Buffer.from(signature.slice(2), 'hex');
  if (bytes.length !== 65) return undefined;
  const v = bytes[64];
  const recoveryBit = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : undefined;
  if (recoveryBit === undefined) return undefined;
  // libsecp256k1 refuses r or s ≥ n (parse) and r or s = 0 or no curve point (recover).
  const publicKey = recoverPublicKey(bytes.subarray(0, 64), digest, recoveryBit);
  if (publicKey === undefined) return undefined;
  return {
    address: `0x${Buffer.from(keccak_256(publicKey.subarray(1))).subarray(12).toString('hex')}`,
    highS: BigInt(`0x${signature.slice(66, 130)}`) > HALF_ORDER,
    vIsParity: v < 27,
  };
}
