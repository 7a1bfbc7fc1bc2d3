import { randomBytes } from 'node:crypto';
import { HANDOFF_KEY_BYTES } from '../../lambda/core/handoff-seal';
import type { PassRecord, PassRecordsPort } from '../../lambda/core/passes/scheme';
import type { ReceiptStorePort } from '../../lambda/core/ports';
import type { Receipt } from '../../lambda/core/receipt';
import { passRecordOf } from '../../lambda/edge/dynamo-receipt-store';
import { MemoryPassUsage } from './memory-pass-usage';

/**
 * The receipt store's transitions over a Map, for unit tests of the pure paywall (the DynamoDB
 * store itself is tested against dynalite). `failing` makes every call throw, as an unreachable
 * database does.
 */
export class MemoryReceipts implements ReceiptStorePort, PassRecordsPort {
  readonly rows = new Map<string, Receipt>();
  failing = false;
  private key: Uint8Array | undefined;

  async reserve(receipt: Receipt) {
    this.check();
    const held = this.rows.get(receipt.paymentId);
    if (held && held.status !== 'released') return { held };
    this.rows.set(receipt.paymentId, receipt);
    return 'reserved' as const;
  }
  async forget(paymentId: string) {
    this.check();
    const row = this.rows.get(paymentId);
    if (row?.status === 'reserved' && !row.settleStartedAt) this.rows.delete(paymentId);
  }
  async claimForSettlement(paymentId: string, at: string) {
    this.check();
    const row = this.rows.get(paymentId);
    if (row?.status !== 'reserved' || row.settleStartedAt || !row.payment) return undefined;
    this.rows.set(paymentId, { ...row, settleStartedAt: at, updatedAt: at });
    return row.payment;
  }
  async markSettled(paymentId: string, txHash: string, at: string) {
    const { payment: _spent, ...row } = this.move(paymentId, 'reserved');
    this.rows.set(paymentId, { ...row, status: 'settled', txHash, updatedAt: at });
  }
  async markFailed(paymentId: string, errorReason: string, at: string, txHash?: string) {
    this.rows.set(paymentId, { ...this.move(paymentId, 'reserved'), status: 'failed', errorReason, updatedAt: at, ...(txHash ? { txHash } : {}) });
  }
  async release(paymentId: string, at: string) {
    this.rows.set(paymentId, { ...this.move(paymentId, 'reserved'), status: 'released', updatedAt: at });
  }
  async claimRedelivery(paymentId: string, max: number, at: string) {
    this.check();
    const row = this.rows.get(paymentId);
    if (row?.status !== 'settled' || (row.redeliveries ?? 0) >= max) return false;
    this.rows.set(paymentId, { ...row, redeliveries: (row.redeliveries ?? 0) + 1, updatedAt: at });
    return true;
  }
  async returnRedelivery(paymentId: string, at: string) {
    const row = this.move(paymentId, 'settled');
    this.rows.set(paymentId, { ...row, redeliveries: Math.max(0, (row.redeliveries ?? 0) - 1), updatedAt: at });
  }
  async handoffKey({ create }: { readonly create: boolean }) {
    this.check();
    if (!this.key && create) this.key = randomBytes(HANDOFF_KEY_BYTES);
    if (!this.key) throw new Error('no hand-off key row yet');
    return this.key;
  }

  async recordPass(paymentId: string, record: PassRecord, at: string) {
    const row = this.move(paymentId, 'settled');
    if (row.passId) throw new Error(`ConditionalCheckFailed: ${paymentId} has a pass already`);
    this.rows.set(paymentId, { ...row, kind: 'pass', ...record, passScope: JSON.stringify(record.passScope), updatedAt: at });
  }
  async findPass(paymentId: string) {
    this.check();
    const row = this.rows.get(paymentId);
    return row && passRecordOf(row);
  }

  /** What `revokedPasses` answers (the list the CLI writes to the table). */
  revoked: Record<string, number> = {};
  async revokedPasses() {
    this.check();
    return { ...this.revoked };
  }

  /** The pass counter rows. */
  readonly usage = new MemoryPassUsage();
  async addPassUses(passId: string, container: string, sequence: number, uses: number) {
    this.check();
    return this.usage.addPassUses(passId, container, sequence, uses);
  }

  private check(): void {
    if (this.failing) throw new Error('DynamoDB unreachable');
  }
  private move(paymentId: string, from: Receipt['status']): Receipt {
    this.check();
    const row = this.rows.get(paymentId);
    if (row?.status !== from) throw new Error(`ConditionalCheckFailed: ${paymentId} is ${row?.status ?? 'absent'}, not ${from}`);
    return row;
  }
}

/** A reserved row for a v2 payment, as viewer-request writes it. */
export function reservedRow(paymentId: string, overrides: Partial<Receipt> = {}): Receipt {
  const at = new Date().toISOString();
  return {
    paymentId,
    status: 'reserved',
    engine: 'edge',
    network: 'eip155:84532',
    payer: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
    payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
    amount: '1000',
    asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    nonce: '0x' + '00'.repeat(32),
    resource: 'https://example.com/articles/one',
    route: '/articles/*',
    x402Version: 2,
    createdAt: at,
    updatedAt: at,
    expiresAt: Math.floor(Date.now() / 1000) + 120,
    payment: JSON.stringify({ x402Version: 2, payload: { x402Version: 2, accepted: {}, payload: {} } }),
    ...overrides,
  };
}
