import type { Hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuphonicClient, OpenedDownload } from './client.ts';
import { AuphonicError, errorForStatus, networkError, SinkFailure } from './errors.ts';
import { contentRange, headerValue } from './headers.ts';
import { quickDelay, resumeDelay } from './retry.ts';

/** What a split download needs of its sink beyond sequential writes. */
export interface RangeSink {
  /** A range must start at a multiple of this (S3: the part size); 1 when absent. */
  readonly align?: number;
  /** The most bytes a range taken now may hold (S3: the spool left); no limit when absent. */
  room?(): number;
  /** Claims room for a range about to be taken; returns the function that gives it back if it is not. */
  reserve?(bytes: number): () => void;
  /** Calls `listener` when room comes back (another download gave its back); returns the unsubscribe. */
  onRoomFreed?(listener: () => void): () => void;
  /** `signal`: the range was stopped (a wait for the sink's memory must give up). */
  writeAt(chunk: Uint8Array, position: number, signal?: AbortSignal): Promise<void>;
  readRange(start: number, end: number): AsyncIterable<Buffer>;
}

/** One range of the file and how far it has come; `end` shrinks when the range is split. */
interface Range {
  pos: number;
  end: number;
  /** A helper is asking for this range's upper half: no second split until it answers. */
  splitting: boolean;
}

/**
 * One download shared out in ranges, as download accelerators and S3's
 * transfer managers do: when a production's download slots fall idle with
 * nothing left to start, a slot takes the upper half of the largest range
 * still to come with a Range request of its own, and writes it in place.
 * The head (downloadInto) keeps going from the start, hashing as it goes,
 * and stops where the next range begins; once every range is in, the rest
 * of the file is read back to finish the MD5, which is checked against
 * Auphonic's as for any download. A range is taken from its owner only
 * after its helper's answer came as 206 from the right byte, so no byte is
 * ever without an owner; a source that answers 200 is never split again.
 */
export class SplitDownload {
  readonly total: number;
  readonly #minRange: number;
  readonly #sink: RangeSink;
  readonly #client: AuphonicClient;
  readonly #url: URL;
  readonly #maxResumes: number;
  readonly #onBytes: ((bytes: number) => void) | undefined;
  readonly #head: Range;
  /** The helpers' ranges, and their runs. */
  readonly #ranges = new Set<Range>();
  readonly #helpers = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #splittable = true;
  #closed = false;
  #helperBytes = 0;
  #failure: unknown;
  #helped = 0;
  readonly #unsubscribe: () => void;
  /** Told when a range was taken, ranges turned off, or the sink has room again (idle slots may look again). */
  onChange: (() => void) | undefined;

  /**
   * `headPos` reads where the head has come to (the sink's sequential bytes); `minRange`: no range
   * shorter than this is split off. A link gone stale (404) makes a helper decline: the head renews its own.
   */
  constructor(opts: {
    client: AuphonicClient;
    url: URL;
    total: number;
    minRange: number;
    sink: RangeSink;
    headPos: () => number;
    maxResumes: number;
    onBytes?: (bytes: number) => void;
  }) {
    this.total = opts.total;
    this.#minRange = Math.max(1, opts.minRange);
    this.#sink = opts.sink;
    this.#client = opts.client;
    this.#url = opts.url;
    this.#maxResumes = opts.maxResumes;
    this.#onBytes = opts.onBytes;
    this.#unsubscribe = opts.sink.onRoomFreed?.(() => this.onChange?.()) ?? (() => {});
    const headPos = opts.headPos;
    this.#head = {
      get pos() {
        return headPos();
      },
      end: opts.total,
      splitting: false,
    };
  }

  /** Aborted when a helper failed: the head stops too. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Where the head stops: the start of the first range a helper took (the total when none). */
  get headEnd(): number {
    return this.#head.end;
  }

  /** Bytes the helpers have written so far. */
  get helperBytes(): number {
    return this.#helperBytes;
  }

  /** How many ranges helpers took. */
  get helped(): number {
    return this.#helped;
  }

  /** A helper's failure, which is the download's. */
  get failure(): unknown {
    return this.#failure;
  }

  /** The bytes a helper could take now (about half the largest range), 0 when none is worth it. */
  offer(): number {
    const cut = this.#cut(0.5);
    return cut ? cut.range.end - cut.mid : 0;
  }

  /**
   * Takes the upper part of the largest range and downloads it; false when there was nothing
   * worth splitting or the source would not serve a range (then nothing changed). A failure of the
   * range is the download's (the head throws it); this throws only the caller's own abort.
   */
  async help(callerSignal: AbortSignal, opts: { share?: number } = {}): Promise<boolean> {
    // The top `share` of the largest range (a half unless more slots are idle at once); where that
    // is too little for the sink's alignment, a half, as offer() saw it.
    const cut = this.#cut(opts.share ?? 0.5) ?? this.#cut(0.5);
    if (!cut) return false;
    const { range: victim, mid } = cut;
    victim.splitting = true;
    // Bytes split off a helper's range were already claimed with it.
    const giveBack = (victim === this.#head ? this.#sink.reserve?.(victim.end - mid) : undefined) ?? (() => {});
    const signal = AbortSignal.any([callerSignal, this.#abort.signal]);
    let res: OpenedDownload;
    try {
      res = await this.#client.openDownload(this.#url, { offset: mid, signal });
    } catch (err) {
      victim.splitting = false;
      giveBack();
      if (callerSignal.aborted) throw err;
      this.#splittable = false;
      this.onChange?.();
      return false;
    }
    // Taken only once the source serves this very range of this very file, and the owner has not come that far.
    const served = contentRange(res.headers['content-range']);
    const usable = res.statusCode === 206 && served?.start === mid && served.total === this.total;
    if (!usable || this.#closed || victim.pos >= mid) {
      res.body.destroy();
      victim.splitting = false;
      giveBack();
      if (!usable) this.#splittable = false;
      this.onChange?.();
      return false;
    }
    const range: Range = { pos: mid, end: victim.end, splitting: false };
    victim.end = mid;
    victim.splitting = false;
    this.#helped += 1;
    this.#ranges.add(range);
    this.onChange?.();
    const run = this.#fill(range, res, signal).catch((err: unknown) => {
      if (this.#abort.signal.aborted) return; // Stopped: the head's failure is the download's.
      if (callerSignal.aborted) throw err;
      this.#failure = err;
      this.#closed = true;
      this.#abort.abort(err);
    });
    this.#helpers.add(run);
    try {
      await run;
    } finally {
      this.#helpers.delete(run);
    }
    return true;
  }

  /**
   * Once the head's body has ended: no more splits; waits for every range and throws the first
   * failure. When the head came to headEnd, feeds the rest of the file to its hash. Returns the
   * bytes received in all (short of the total when the head's body ended early: a size mismatch).
   */
  async finish(hash: Hash): Promise<number> {
    this.#closed = true;
    this.#unsubscribe();
    await Promise.allSettled([...this.#helpers]);
    if (this.#failure !== undefined) throw this.#failure;
    for (const range of this.#ranges) {
      if (range.pos !== range.end) throw new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', 'a range ended early', { retryable: true });
    }
    const head = this.#head.pos;
    if (head === this.#head.end && head < this.total) {
      for await (const chunk of this.#sink.readRange(head, this.total)) hash.update(chunk);
    }
    return head + this.#helperBytes;
  }

  /** Stops the helpers (the head failed or was cancelled) and waits until nothing writes. */
  async stop(reason: unknown): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    this.#abort.abort(reason);
    await Promise.allSettled([...this.#helpers]);
  }

  /**
   * Where to split the largest range that can be, for a helper taking `share` of it: never a
   * range below the minimum, its start on the sink's alignment, and, when it comes off the head,
   * within the room the sink has (a helper's range already holds room for all its bytes).
   */
  #cut(share: number): { range: Range; mid: number } | null {
    if (!this.#splittable || this.#closed) return null;
    const candidates = [this.#head, ...this.#ranges]
      .filter((range) => !range.splitting && range.end - range.pos >= 2 * this.#minRange)
      .sort((a, b) => b.end - b.pos - (a.end - a.pos));
    const align = Math.max(1, this.#sink.align ?? 1);
    for (const range of candidates) {
      const room = range === this.#head ? (this.#sink.room?.() ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
      const take = Math.max(Math.floor((range.end - range.pos) * Math.min(share, 0.5)), this.#minRange);
      let mid = Math.floor((range.end - take) / align) * align;
      if (range.end - mid > room) mid += Math.ceil((range.end - mid - room) / align) * align;
      if (mid > range.pos && range.end - mid >= this.#minRange) return { range, mid };
    }
    return null;
  }

  /** Streams the range in place, continuing from where it broke (the source has shown it serves ranges). */
  async #fill(range: Range, first: OpenedDownload, signal: AbortSignal): Promise<void> {
    let res: OpenedDownload | null = first;
    let resumes = 0;
    // A broken connection, no answer or a server error is tried again as the head would, within the
    // range's own resumes: a failed range costs the whole download its bytes (the next attempt starts over).
    const again = async (err: unknown) => {
      if (err instanceof SinkFailure) throw err.cause;
      if (signal.aborted || (err instanceof AuphonicError && !err.retryable)) throw err;
      if (resumes >= this.#maxResumes) throw networkError('download range', err);
      const delay = err instanceof AuphonicError ? quickDelay(resumes, this.#client.retries, err) : resumeDelay(resumes + 1);
      // A Retry-After longer than quick retries wait: the job's backoff is for that.
      if (delay === null) throw err;
      resumes += 1;
      res = null;
      await sleep(delay, undefined, { signal });
    };
    for (;;) {
      if (!res) {
        try {
          res = await this.#client.openDownload(this.#url, { offset: range.pos, signal });
        } catch (err) {
          await again(err);
          continue;
        }
        if (res.statusCode !== 206 || contentRange(res.headers['content-range'])?.start !== range.pos) {
          res.body.destroy();
          const status = errorForStatus(res.statusCode, 'download range', {
            from: res.url.origin === this.#client.baseUrl.origin ? 'download' : 'storage',
            retryAfter: headerValue(res.headers['retry-after']),
          });
          if (status?.retryable) {
            await again(status);
            continue;
          }
          // A 200 (ranges no longer served), a range starting elsewhere, a refusal: not for this range to mend.
          throw (
            status ?? new AuphonicError('ERR_AUPHONIC_BAD_RESPONSE', `a range request answered HTTP ${res.statusCode}`, { retryable: true })
          );
        }
      }
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const take = Math.min(chunk.length, range.end - range.pos);
          if (take > 0) {
            // Moved on before the write waits: a split of this range must see where it really is.
            const at = range.pos;
            range.pos += take;
            this.#helperBytes += take;
            await this.#sink.writeAt(take === chunk.length ? chunk : chunk.subarray(0, take), at, signal).catch((err: unknown) => {
              throw new SinkFailure('sink failed', { cause: err });
            });
            this.#onBytes?.(take);
          }
          if (range.pos >= range.end) break;
        }
      } catch (err) {
        await again(err);
        continue;
      }
      if (range.pos >= range.end) return;
      // The body ended before the range did: a cut the source did not report.
      await again(new Error('body ended early'));
    }
  }
}
