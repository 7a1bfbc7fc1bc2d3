/**
 * Seals the signed payment into the hand-off so that the origin-facing trigger can settle it
 * without first reading it back from the receipt table (one serial round trip less per paid
 * request), while the origin, which sees the hand-off header, sees only ciphertext.
 *
 * AES-256-GCM with a key both triggers read from one bookkeeping row of the receipt table, so the
 * payment is exactly as confidential as in the reservation row that also holds it. The
 * additional data is the payment id: a sealed payment opens only for its own reservation. Sealing
 * is an optimisation only: without the key (not loaded yet, unreadable, rotated) the hand-off goes
 * unsealed and the origin-facing trigger claims the payment from the row, as before.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock, LogSink } from './ports';

export const HANDOFF_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** After a failed key read, none is tried for this long: a slow table does not slow every request. */
export const HANDOFF_KEY_RETRY_MS = 5_000;

export class HandoffSeal {
  private key: Uint8Array | undefined;
  private loading: Promise<boolean> | undefined;
  private retryAt = 0;

  constructor(
    private readonly loadKey: () => Promise<Uint8Array>,
    private readonly clock: Clock,
    private readonly log: LogSink,
  ) {}

  /**
   * True once the key is here; starts reading it when it is not, and waits at most `withinMs` for
   * it (false then, or when reading failed; the read goes on for the next request). Never rejects.
   */
  async ready(withinMs: number): Promise<boolean> {
    if (this.key) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(1, withinMs));
    });
    return Promise.race([this.load(), late]).finally(() => clearTimeout(timer));
  }

  private load(): Promise<boolean> {
    if (this.loading) return this.loading;
    if (this.clock() < this.retryAt) return Promise.resolve(false);
    this.loading = this.loadKey()
      .then(
        (key) => {
          if (key.length !== HANDOFF_KEY_BYTES) throw new Error(`the hand-off key has ${key.length} bytes, not ${HANDOFF_KEY_BYTES}`);
          this.key = key;
          return true;
        },
      )
      .catch((error: unknown) => {
        this.retryAt = this.clock() + HANDOFF_KEY_RETRY_MS;
        this.log({ event: 'x402.handoff_key_unavailable', error: String(error) });
        return false;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** The payment sealed for `paymentId`, or undefined while there is no key. */
  seal(paymentId: string, payment: string): string | undefined {
    if (!this.key) return undefined;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(paymentId, 'utf8'));
    const body = Buffer.concat([cipher.update(payment, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The payment, or undefined without the key or when `sealed` was not sealed for `paymentId` with it. */
  open(paymentId: string, sealed: string): string | undefined {
    if (!this.key) return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(paymentId, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
