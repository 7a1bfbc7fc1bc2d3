import type { PassUsage, PassUsagePort } from '../../lambda/core/passes/quota';

/** A flush sent to the table and not answered yet (`held`): the test decides when and how it lands. */
export interface HeldFlush {
  readonly passId: string;
  readonly container: string;
  readonly sequence: number;
  readonly uses: number;
  /** Applies the write (as the table would) and answers it. */
  land(): void;
  /** Applies the write, but its answer is lost (the caller never hears back). */
  landSilently(): void;
  /** The write never reached the table: the caller gets an error. */
  fail(): void;
}

/**
 * The pass counter rows over a Map, with the table's semantics (each container's sequence applied
 * once, the count after the write answered). `held`: writes wait for the test to land them;
 * `failing`: every write throws, as an unreachable table does.
 */
export class MemoryPassUsage implements PassUsagePort {
  readonly rows = new Map<string, { uses: number; sequences: Map<string, number> }>();
  failing = false;
  held = false;
  readonly pending: HeldFlush[] = [];
  writes = 0;

  uses(passId: string): number {
    return this.rows.get(passId)?.uses ?? 0;
  }

  addPassUses(passId: string, container: string, sequence: number, uses: number): Promise<PassUsage | 'duplicate'> {
    this.writes++;
    if (this.failing) return Promise.reject(new Error('DynamoDB unreachable'));
    const apply = (): PassUsage | 'duplicate' => {
      const row = this.rows.get(passId) ?? { uses: 0, sequences: new Map<string, number>() };
      this.rows.set(passId, row);
      if ((row.sequences.get(container) ?? 0) >= sequence) return 'duplicate';
      row.sequences.set(container, sequence);
      row.uses += uses;
      return { uses: row.uses, containers: row.sequences.size };
    };
    if (!this.held) return Promise.resolve(apply());
    return new Promise((resolve, reject) => {
      const settle = () => this.pending.splice(this.pending.indexOf(flush), 1);
      const flush: HeldFlush = {
        passId,
        container,
        sequence,
        uses,
        land: () => (settle(), resolve(apply())),
        landSilently: () => (settle(), apply()),
        fail: () => (settle(), reject(new Error('DynamoDB unreachable'))),
      };
      this.pending.push(flush);
    });
  }
}
