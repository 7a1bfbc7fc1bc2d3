/**
 * Every EVM address printed in cdk-x402's README and tests: sample wallets, token contracts,
 * placeholders and EIP-55 test vectors. Copied into a real deployment as `payTo`, they would send
 * a publisher's revenue to whoever holds their keys (or to nobody), so synth refuses them wherever
 * payments are real. A test keeps this list complete: every `0x` + 40 hex digits found in
 * README.md and test/ must be here.
 */
export const SAMPLE_ADDRESSES: ReadonlyArray<{ readonly address: string; readonly what: string }> = [
  { address: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', what: 'the sample payTo of the README and the tests' },
  { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', what: 'the USDC token contract on Base Sepolia' },
  { address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', what: 'the USDC token contract on Base' },
  { address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', what: 'the USDC token contract on Ethereum' },
  { address: '0x4292AbC0000000000000000000000000000Ca763', what: 'a sample payer of the tests' },
  { address: '0x4292000000000000000000000000000000000001', what: 'a sample payer of the tests' },
  { address: '0x4292a7b8f0C3f5E3a1D6a6F0f5F6b2e2d1c0a763', what: 'a sample payer of the tests' },
  { address: '0xAaAa000000000000000000000000000000000001', what: 'a sample payer of the tests' },
  { address: '0xBbBb000000000000000000000000000000000002', what: 'a sample payer of the tests' },
  { address: '0xCcCc000000000000000000000000000000000003', what: 'a sample payer of the tests' },
  { address: '0x1111111111111111111111111111111111111111', what: 'a placeholder of the tests' },
  { address: '0x2222222222222222222222222222222222222222', what: 'a placeholder of the tests' },
  { address: '0x3333333333333333333333333333333333333333', what: 'a placeholder of the tests' },
  { address: '0x4444444444444444444444444444444444444444', what: 'a placeholder of the tests' },
  { address: '0x0000000000000000000000000000000000000001', what: 'a placeholder of the tests' },
  { address: '0x000000000000000000000000000000000000dEaD', what: 'the conventional burn address' },
  { address: '0x000000000000000000000000000000000000bEEF', what: 'a placeholder of the tests' },
  { address: '0x000000000000000000000000000000000000fac7', what: 'a placeholder of the tests' },
  { address: '0x00000000000000000000000000000000000000aa', what: 'a placeholder of the tests (batch-settlement terms)' },
  { address: '0x00000000000000000000000000000000000fac11', what: 'a placeholder of the tests (a facilitator address)' },
  { address: '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003', what: 'the x402 batch-settlement contract (docs/batch-settlement.md)' },
  { address: '0x4020806089470a89826cB9fB1f4059150b550004', what: 'the x402 batch-settlement ERC-3009 deposit collector' },
  { address: '0x4020425FAf3B746C082C2f942b4E5159887B0005', what: 'the x402 batch-settlement Permit2 deposit collector' },
  { address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', what: 'an EIP-55 test vector' },
  { address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', what: 'an EIP-55 test vector' },
  { address: '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', what: 'an EIP-55 test vector' },
];

/** What a sample address is (addresses compare case-insensitively), or undefined for any other. */
export function sampleAddress(address: string): string | undefined {
  return SAMPLE_ADDRESSES.find((sample) => sample.address.toLowerCase() === address.toLowerCase())?.what;
}
