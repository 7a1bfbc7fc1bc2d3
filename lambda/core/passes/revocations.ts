/**
 * The revocation list of passes, as each viewer-request container sees it: loaded in the
 * background, never awaited by a request (no table read on a pass holder's path). A revoked pass is
 * refused by every container within {@link REVOCATION_REFRESH_SECONDS} of the revocation plus one
 * table read; a container's very first requests, before its first load answered, do not see it.
 */
import type { Clock, LogSink } from '../ports';

/** How old a container's copy of the list may get before a request starts a reload. */
export const REVOCATION_REFRESH_SECONDS = 60;

/** Where the list lives: `passId → exp` of the pass (epoch seconds; the list drops entries past it). */
export interface PassRevocationsPort {
  revokedPasses(): Promise<Readonly<Record<string, number>>>;
}

export class PassRevocations {
  private revoked: Readonly<Record<string, number>> = {};
  /** When the last load was started; a failed one is retried after the same interval. */
  private triedAt: number | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly port: PassRevocationsPort,
    private readonly clock: Clock,
    private readonly log: LogSink,
    private readonly refreshSeconds = REVOCATION_REFRESH_SECONDS,
  ) {}

  /** Whether the pass is on the list as last loaded; starts a reload when the copy is stale. */
  isRevoked(passId: string): boolean {
    if (this.triedAt === undefined || this.clock() - this.triedAt >= this.refreshSeconds * 1000) void this.reload();
    return Object.hasOwn(this.revoked, passId);
  }

  /** Resolves when a load started now (or running) has ended: for tests and warm-up. */
  reload(): Promise<void> {
    if (!this.loading) this.triedAt = this.clock();
    this.loading ??= this.port
      .revokedPasses()
      .then((revoked) => {
        this.revoked = revoked;
      })
      // The last list stays in force; the next request tries again.
      .catch((error: unknown) => this.log({ event: 'x402.pass_revocations_error', error: String(error) }))
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
