/**
 * The buffers multipart uploads fill, shared by every upload of one driver:
 * what S3 uploads hold in memory is `count × size`, however many outputs
 * download at once. A part's buffer goes back to the pool once S3 has it.
 */
export class PartPool {
  readonly size: number;
  readonly #count: number;
  readonly #free: Buffer[] = [];
  readonly #waiting: Array<(buffer: Buffer) => void> = [];
  #made = 0;

  constructor(size: number, count: number) {
    this.size = size;
    this.#count = Math.max(1, count);
  }

  /**
   * A buffer to fill: a free one, a new one while fewer than `count` exist, else the next one
   * released. `signal` stops the wait (a stopped writer must not wait for a buffer for ever).
   */
  acquire(signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#made < this.#count) {
      this.#made += 1;
      return Promise.resolve(Buffer.allocUnsafeSlow(this.size));
    }
    return new Promise((resolve, reject) => {
      const waiter = (buffer: Buffer) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(buffer);
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  release(buffer: Buffer): void {
    const next = this.#waiting.shift();
    if (next) next(buffer);
    else this.#free.push(buffer);
  }
}
