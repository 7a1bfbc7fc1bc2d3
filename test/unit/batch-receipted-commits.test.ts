import { RECEIPTED_CHANNELS, RECEIPTED_PER_CHANNEL, ReceiptedCommits } from '../../lambda/core/batch/receipted-commits';

describe('ReceiptedCommits: the markers a channel\'s next commit removes, bounded', () => {
  it('offers a channel\'s receipted commits (never the committing one), and forgets them once a commit removed them', () => {
    const memory = new ReceiptedCommits();
    memory.remember('0xAB', 'r1');
    memory.remember('0xab', 'r2');
    expect(memory.of('0xab', 'r3')).toEqual(['r1', 'r2']);
    expect(memory.of('0xab', 'r2')).toEqual(['r1']);
    expect(memory.of('0xcd', 'r3')).toEqual([]);
    memory.remember('0xab', 'r3');
    memory.removed('0xab', ['r1', 'r2']);
    expect(memory.of('0xab', 'r4')).toEqual(['r3']);
  });

  it(`keeps at most ${RECEIPTED_PER_CHANNEL} per channel (the newest) and ${RECEIPTED_CHANNELS} channels (the most recently served)`, () => {
    const memory = new ReceiptedCommits();
    for (let i = 0; i < RECEIPTED_PER_CHANNEL + 2; i++) memory.remember('0x01', `r${i}`);
    expect(memory.of('0x01', 'next')).toEqual(Array.from({ length: RECEIPTED_PER_CHANNEL }, (_, i) => `r${i + 2}`));
    for (let c = 2; c <= RECEIPTED_CHANNELS; c++) memory.remember(`0x${c.toString(16)}`, 'r');
    // Served again: now the most recent, so the next new channel evicts 0x2 instead.
    memory.remember('0x01', 'again');
    memory.remember('0xnew', 'r');
    expect(memory.of('0x2', 'next')).toEqual([]);
    expect(memory.of('0x01', 'next')).toHaveLength(RECEIPTED_PER_CHANNEL);
    expect(memory.of('0x3', 'next')).toEqual(['r']);
  });
});
