import { getAddress } from 'viem';
import { PERMIT2_ADDRESS as X402_PERMIT2_ADDRESS, x402UptoPermit2ProxyAddress } from '@x402/evm';
import { SETTLEMENT_OVERRIDES_HEADER as X402_HEADER } from '@x402/core/http';
import { PaymentHeaders } from '../../lambda/core/header-names';
import { FacilitatorAddress, PERMIT2_ADDRESS, readUsage, UPTO_PROXY_ADDRESS } from '../../lambda/core/upto';
import { reportUsage, SETTLEMENT_OVERRIDES_HEADER, settlementOverridesValue } from '../../lambda/metering';

describe('upto constants', () => {
  it('are the canonical addresses and header name of the x402 packages', () => {
    expect(PERMIT2_ADDRESS).toBe(X402_PERMIT2_ADDRESS);
    expect(UPTO_PROXY_ADDRESS).toBe(x402UptoPermit2ProxyAddress);
    expect(SETTLEMENT_OVERRIDES_HEADER).toBe(X402_HEADER);
    expect(PaymentHeaders.settlementOverrides).toBe(X402_HEADER.toLowerCase());
  });
});

describe('readUsage (the origin\'s Settlement-Overrides)', () => {
  const max = 5000n;
  it.each([
    ['{"amount":"1234"}', { kind: 'reported', amount: 1234n }],
    ['{"amount":"0"}', { kind: 'reported', amount: 0n }],
    ['{"amount":"$0.002"}', { kind: 'reported', amount: 2000n }],
    ['{"amount":"$0"}', { kind: 'reported', amount: 0n }],
    ['{"amount":"50%"}', { kind: 'reported', amount: 2500n }],
    ['{"amount":"33.33%"}', { kind: 'reported', amount: 1666n }],
    ['{"amount":"5000"}', { kind: 'reported', amount: 5000n }],
    ['{"amount":"5001"}', { kind: 'capped', amount: 5000n, reported: '5001' }],
    ['{"amount":"150%"}', { kind: 'capped', amount: 5000n, reported: '7500' }],
  ])('reads %s', (header, expected) => expect(readUsage(header, max, 6)).toEqual(expected));

  it.each(['', 'forty-two', '{"amount":1234}', '{"amount":"-1"}', '{"amount":"1e3"}', '{"amount":"$0.0000001"}', 'null', '{}'])('calls %j malformed', (header) => {
    expect(readUsage(header, max, 6).kind).toBe('malformed');
  });

  it('tells a missing header from a malformed one', () => expect(readUsage(undefined, max, 6)).toEqual({ kind: 'missing' }));
});

describe('reportUsage (the Node origin helper)', () => {
  it('writes what readUsage reads back, for each form', () => {
    for (const [amount, atomic] of [[1234n, 1234n], [1234, 1234n], ['0', 0n], ['$0.001', 1000n], ['20%', 1000n]] as const) {
      const headers: Record<string, string> = {};
      reportUsage({ setHeader: (name, value) => (headers[name] = value) }, amount);
      expect(readUsage(headers['Settlement-Overrides'], 5000n, 6)).toEqual({ kind: 'reported', amount: atomic });
    }
  });
  it.each([-1, 1.5, 'lots', '1e3', Number.MAX_SAFE_INTEGER + 2])('refuses %p instead of charging a default', (amount) => {
    expect(() => settlementOverridesValue(amount)).toThrow(/reportUsage/);
  });
});

describe('FacilitatorAddress (from /supported)', () => {
  // A placeholder of lib/config/sample-addresses.ts.
  const facilitator = getAddress('0x000000000000000000000000000000000000fac7');
  const answer = { kinds: [{ scheme: 'exact', network: 'eip155:84532' }, { scheme: 'upto', network: 'eip155:84532', extra: { facilitatorAddress: facilitator } }] };

  it('reads it once per 10 minutes, and again after', async () => {
    let now = 0;
    let calls = 0;
    const cache = new FacilitatorAddress(async () => (calls++, answer), 'eip155:84532', () => now, () => {});
    expect(await cache.get(1000)).toBe(facilitator);
    now = 9 * 60_000;
    expect(await cache.get(1000)).toBe(facilitator);
    expect(calls).toBe(1);
    now = 11 * 60_000;
    await cache.get(1000);
    expect(calls).toBe(2);
  });

  it('is unknown while /supported fails or lists no upto kind for the network, and keeps a known one when a refresh fails', async () => {
    let now = 0;
    let fail = true;
    const logged: unknown[] = [];
    const cache = new FacilitatorAddress(async () => {
      if (fail) throw new Error('down');
      return answer;
    }, 'eip155:84532', () => now, (line) => logged.push(line));
    expect(await cache.get(1000)).toBeUndefined();
    expect(logged).toEqual([expect.objectContaining({ event: 'x402.facilitator_error', phase: 'supported' })]);
    fail = false;
    now = 6_000;
    expect(await cache.get(1000)).toBe(facilitator);
    fail = true;
    now = 20 * 60_000;
    expect(await cache.get(1000)).toBe(facilitator);
    const other = new FacilitatorAddress(async () => answer, 'eip155:8453', () => 0, () => {});
    expect(await other.get(1000)).toBeUndefined();
  });
});
