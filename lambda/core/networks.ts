/**
 * Networks cdk-x402 knows by default, with their USDC. Facts from the x402 spec and Circle's
 * deployments; other networks work when the asset is given explicitly.
 */
export interface KnownNetwork {
  /** CAIP-2 id used by x402 v2. */
  readonly caip2: string;
  /** Name used by x402 v1 (`network` field of v1 requirements). */
  readonly v1Name: string;
  readonly displayName: string;
  readonly chainId: number;
  readonly usdc: { readonly address: string; readonly name: string; readonly version: string; readonly decimals: number };
}

export const KNOWN_NETWORKS: readonly KnownNetwork[] = [
  {
    caip2: 'eip155:8453',
    v1Name: 'base',
    displayName: 'Base',
    chainId: 8453,
    usdc: { address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', name: 'USD Coin', version: '2', decimals: 6 },
  },
  {
    caip2: 'eip155:84532',
    v1Name: 'base-sepolia',
    displayName: 'Base Sepolia',
    chainId: 84532,
    usdc: { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'USDC', version: '2', decimals: 6 },
  },
];

export function knownNetwork(caip2: string): KnownNetwork | undefined {
  return KNOWN_NETWORKS.find((n) => n.caip2 === caip2);
}

/** The chain id of an `eip155:<id>` network, or undefined for anything else. */
export function evmChainId(caip2: string): number | undefined {
  const match = /^eip155:([1-9]\d{0,15})$/.exec(caip2);
  return match ? Number(match[1]) : undefined;
}
