import type { SplitDownload } from '@auphonic-bridge/auphonic';
import type { IdleWork } from './bounded.ts';

/**
 * A production's downloads that may be shared out in ranges (split-download.ts), for its
 * download slots to help with once they have no output left to start: an idle slot takes a
 * range of the download with the most left to share.
 */
export class RangeHelp implements IdleWork {
  readonly #splits = new Set<SplitDownload>();
  #changed = Promise.withResolvers<void>();

  add(split: SplitDownload): void {
    this.#splits.add(split);
    split.onChange = () => this.#wake();
    this.#wake();
  }

  delete(split: SplitDownload): void {
    this.#splits.delete(split);
    this.#wake();
  }

  async run(signal: AbortSignal, idleSlots: number): Promise<boolean> {
    let best: SplitDownload | undefined;
    let most = 0;
    for (const split of this.#splits) {
      const offer = split.offer();
      if (offer > most) [best, most] = [split, offer];
    }
    if (!best) return false;
    // Declined or not, something moved on (a range taken, ranges turned off, or its owner past the middle): look again.
    // Several slots idle at once share the range evenly: this one takes its part from the top.
    await best.help(signal, { share: 1 / (idleSlots + 1) });
    return true;
  }

  changed(): Promise<void> {
    return this.#changed.promise;
  }

  #wake(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }
}
