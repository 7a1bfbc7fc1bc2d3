/** EVM addresses (EIP-55). */
import { keccak256 } from './keccak';
import type { Problems } from './problems';

/**
 * The EIP-55 checksummed form of a 20-byte hex address. cdk-x402 insists on checksummed addresses
 * because a typo in `payTo` sends real money to an address nobody controls; EIP-55 lets a random
 * typo through only about once in 4000.
 */
export function toChecksumAddress(address: string): string {
  const lower = address.slice(2).toLowerCase();
  const hash = Buffer.from(keccak256(new TextEncoder().encode(lower))).toString('hex');
  let out = '0x';
  for (let i = 0; i < lower.length; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

/** Why a string is not an acceptable EVM address, or undefined. */
export function addressProblem(value: string): { problem: string; fix?: string } | undefined {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return { problem: 'is not an EVM address (0x followed by 40 hex digits)' };
  if (/^0x0{40}$/.test(value)) return { problem: 'is the zero address: payments sent there are burned' };
  const checksummed = toChecksumAddress(value);
  if (value === checksummed) return undefined;
  if (value === value.toLowerCase() || value.slice(2) === value.slice(2).toUpperCase()) {
    return {
      problem: 'has no EIP-55 checksum (all one case), so a typo could not be detected',
      fix: `copy the checksummed address from your wallet; if the address is right as typed, its checksummed form is ${checksummed}`,
    };
  }
  return { problem: 'fails its EIP-55 checksum: at least one character is mistyped', fix: 'copy the address again from your wallet; do not edit it by hand' };
}

export function checkAddress(problems: Problems, key: string, value: unknown, missingFix: string): string | undefined {
  if (value === undefined || value === '') {
    problems.add(key, value, 'is required', missingFix);
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(key, value, 'must be a string', missingFix);
    return undefined;
  }
  const issue = addressProblem(value);
  if (issue) {
    problems.add(key, value, issue.problem, issue.fix ?? missingFix);
    return undefined;
  }
  return value;
}
