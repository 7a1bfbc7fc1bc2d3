import { ACCOUNT_KIND_TTL_MS, AccountKinds, CHAIN_RPC_BACKOFF_MS } from '../../lambda/core/account-kinds';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { ChainPort } from '../../lambda/core/ports';

const EOA = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
const WALLET = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();

/** A chain whose answers the test decides: which addresses have code, whether it is reachable, when it answers. */
function scriptedChain() {
  const calls: Array<{ address: string; timeoutMs: number }> = [];
  let reachable = true;
  let answered: Promise<void> = Promise.resolve();
  const chain: ChainPort = {
    async hasCode(address, timeoutMs) {
      calls.push({ address, timeoutMs });
      await answered;
      if (!reachable) throw new Error('connect ECONNREFUSED');
      return address === WALLET;
    },
    call: () => Promise.reject(new Error('AccountKinds only asks eth_getCode')),
  };
  return {
    chain,
    calls,
    setReachable: (value: boolean) => (reachable = value),
    /** Holds every answer until the returned function is called. */
    hold(): () => void {
      let answer = () => undefined as void;
      answered = new Promise<void>((resolve) => (answer = resolve));
      return answer;
    },
  };
}

function setup() {
  let now = 1_000_000;
  const logs: Array<Record<string, unknown>> = [];
  const scripted = scriptedChain();
  const kinds = new AccountKinds(scripted.chain, 500, () => now, (line) => logs.push(line), 100);
  return { kinds, scripted, logs, advance: (ms: number) => (now += ms) };
}

it('tells an EOA from a contract with one lookup each, then answers from memory, any letter case', async () => {
  const { kinds, scripted } = setup();
  expect(kinds.known(EOA)).toBeUndefined();
  expect(await kinds.lookup(EOA, 4000)).toBe('eoa');
  expect(await kinds.lookup(WALLET, 4000)).toBe('contract');
  expect(kinds.known(EOA.toUpperCase().replace('0X', '0x'))).toBe('eoa');
  expect(await kinds.lookup(WALLET, 4000)).toBe('contract');
  expect(scripted.calls.map((call) => call.address)).toEqual([EOA, WALLET]);
});

it('bounds each lookup by its timeout, or by the time the trigger has left when that is shorter', async () => {
  const { kinds, scripted } = setup();
  await kinds.lookup(EOA, 4000);
  await kinds.lookup(WALLET, 120);
  expect(scripted.calls.map((call) => call.timeoutMs)).toEqual([500, 120]);
});

it('forgets an EOA after 5 minutes and a contract after an hour (code can appear, it rarely goes)', async () => {
  const { kinds, advance } = setup();
  await kinds.lookup(EOA, 4000);
  await kinds.lookup(WALLET, 4000);
  advance(ACCOUNT_KIND_TTL_MS.eoa);
  expect(kinds.known(EOA)).toBeUndefined();
  expect(kinds.known(WALLET)).toBe('contract');
  advance(ACCOUNT_KIND_TTL_MS.contract - ACCOUNT_KIND_TTL_MS.eoa);
  expect(kinds.known(WALLET)).toBeUndefined();
});

it('shares one lookup among concurrent payments naming the same payer', async () => {
  const { kinds, scripted } = setup();
  const answer = scripted.hold();
  const answers = Promise.all([kinds.lookup(EOA, 4000), kinds.lookup(EOA, 4000), kinds.lookup(EOA, 4000)]);
  answer();
  expect(await answers).toEqual(['eoa', 'eoa', 'eoa']);
  expect(scripted.calls).toHaveLength(1);
});

it('answers "don\'t know" when the RPC fails, logs it, and asks nothing for 5 s', async () => {
  const { kinds, scripted, logs, advance } = setup();
  scripted.setReachable(false);
  expect(await kinds.lookup(EOA, 4000)).toBeUndefined();
  expect(logs).toEqual([expect.objectContaining({ event: 'x402.chain_rpc_error', operation: 'eth_getCode', address: EOA, error: expect.stringMatching(/ECONNREFUSED/) })]);
  scripted.setReachable(true);
  expect(await kinds.lookup(WALLET, 4000)).toBeUndefined();
  expect(scripted.calls).toHaveLength(1);
  advance(CHAIN_RPC_BACKOFF_MS);
  expect(await kinds.lookup(WALLET, 4000)).toBe('contract');
});
