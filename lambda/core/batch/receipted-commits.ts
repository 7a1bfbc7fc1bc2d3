/**
 * The commits this container served whose receipt is written but whose marker is still on the
 * channel's row (no I/O): the next commit on that channel removes those markers in its own update,
 * so a served request costs no separate write for its marker. Bounded: a marker this memory drops
 * (more than {@link RECEIPTED_PER_CHANNEL} on a channel, or a channel beyond
 * {@link RECEIPTED_CHANNELS}) is one the claims run removes (its receipt exists, so it only goes).
 */

/** Markers remembered per channel (Lambda runs one request at a time per container: one is the common case). */
export const RECEIPTED_PER_CHANNEL = 4;
/** Channels remembered; the least recently served goes first. */
export const RECEIPTED_CHANNELS = 256;

export class ReceiptedCommits {
  private readonly byChannel = new Map<string, string[]>();

  /** The receipt of `reservationId`'s commit is written: its marker may go with the channel's next commit. */
  remember(channelId: string, reservationId: string): void {
    const key = channelId.toLowerCase();
    const ids = [...(this.byChannel.get(key) ?? []), reservationId].slice(-RECEIPTED_PER_CHANNEL);
    // Re-inserted: the Map's order is then least recently served first.
    this.byChannel.delete(key);
    this.byChannel.set(key, ids);
    if (this.byChannel.size > RECEIPTED_CHANNELS) this.byChannel.delete(this.byChannel.keys().next().value!);
  }

  /** The markers a commit on the channel may remove (never the committing reservation's own). */
  of(channelId: string, committing: string): readonly string[] {
    return (this.byChannel.get(channelId.toLowerCase()) ?? []).filter((id) => id !== committing);
  }

  /** A commit that applied removed these markers. */
  removed(channelId: string, ids: readonly string[]): void {
    const key = channelId.toLowerCase();
    const left = (this.byChannel.get(key) ?? []).filter((id) => !ids.includes(id));
    if (left.length > 0) this.byChannel.set(key, left);
    else this.byChannel.delete(key);
  }
}
