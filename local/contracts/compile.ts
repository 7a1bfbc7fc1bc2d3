/**
 * Compiles the local chain's Solidity contracts in-process with solcjs (no compiler download).
 * Imports resolve from node_modules (OpenZeppelin). Used by `npm run build:token` (build.ts),
 * which writes the committed artifacts, and by the test that checks they are current.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
// solc has no type definitions; its CommonJS API is `compile(inputJson, { import }) => outputJson`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const solc: { compile(input: string, cb: { import(p: string): { contents: string } | { error: string } }): string; version(): string } = require('solc');

/** The minimal artifact committed next to each contract. */
export interface ContractArtifact {
  readonly contractName: string;
  readonly compiler: string;
  readonly abi: readonly unknown[];
  /** Creation code, 0x-prefixed. */
  readonly bytecode: `0x${string}`;
  /** Runtime code as emitted by solc (immutables zero-filled), 0x-prefixed. */
  readonly deployedBytecode: `0x${string}`;
}

export const CONTRACTS_DIR = __dirname;
/** Source file → contract name; one artifact `<name>.json` each. */
export const CONTRACT_SOURCES = {
  'LocalUSDC.sol': 'LocalUSDC',
  'LocalMulticall.sol': 'LocalMulticall',
  'LocalSmartWallet.sol': 'LocalSmartWallet',
  'LocalPermit2.sol': 'LocalPermit2',
  'LocalUptoPermit2Proxy.sol': 'LocalUptoPermit2Proxy',
  'LocalBatchSettlement.sol': 'LocalBatchSettlement',
  'LocalErc3009DepositCollector.sol': 'LocalErc3009DepositCollector',
} as const;

/** Fixed settings so that the output is byte-for-byte reproducible on any machine. */
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function resolveImport(path: string): { contents: string } | { error: string } {
  try {
    if (path.startsWith('@openzeppelin/contracts/')) {
      const root = dirname(require.resolve('@openzeppelin/contracts/package.json'));
      return { contents: readFileSync(join(root, path.slice('@openzeppelin/contracts/'.length)), 'utf8') };
    }
    return { contents: readFileSync(join(CONTRACTS_DIR, path), 'utf8') };
  } catch (err) {
    return { error: `cannot import ${path}: ${(err as Error).message}` };
  }
}

/** Compiles every contract in CONTRACT_SOURCES; throws with solc's messages on any error. */
export function compileContracts(onWarning?: (message: string) => void): Record<string, ContractArtifact> {
  const sources = Object.fromEntries(
    Object.keys(CONTRACT_SOURCES).map((file) => [file, { content: readFileSync(join(CONTRACTS_DIR, file), 'utf8') }]),
  );
  const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings: SETTINGS }), { import: resolveImport })) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  for (const w of output.errors ?? []) if (w.severity !== 'error') onWarning?.(w.formattedMessage);

  const compiler = `solc-js ${solc.version()}`;
  const artifacts: Record<string, ContractArtifact> = {};
  for (const [file, name] of Object.entries(CONTRACT_SOURCES)) {
    const c = output.contracts[file]?.[name];
    if (!c) throw new Error(`solc produced no contract ${name} in ${file}`);
    artifacts[name] = {
      contractName: name,
      compiler,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    };
  }
  return artifacts;
}

/** The exact file text written for an artifact (stable key order, trailing newline). */
export function artifactText(artifact: ContractArtifact): string {
  return `${JSON.stringify(artifact, null, 2)}\n`;
}

export function artifactPath(name: string): string {
  return join(CONTRACTS_DIR, `${name}.json`);
}
