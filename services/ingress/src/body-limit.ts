import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { bodyTooLarge } from './errors.ts';

/**
 * Counts the bytes of a request body as they are read, for parsers that read
 * `request.raw` themselves, outside Fastify's bodyLimit (@fastify/multipart
 * limits only fields and parts: a chunked body with megabytes of preamble or
 * epilogue was read to its end). Past the limit it stops reading and
 * `exceeded` rejects with a 413.
 */
export class BodyByteLimit {
  /** Rejects (413) once more than the limit has been read; never resolves. */
  readonly exceeded: Promise<never>;
  readonly #raw: IncomingMessage;
  readonly #onData: (chunk: Buffer) => void;

  /** Attach in the same tick as the parser's pipe: a 'data' listener starts the flow on the next tick. */
  constructor(raw: IncomingMessage, limit: number) {
    this.#raw = raw;
    let received = 0;
    let refuse: (err: Error) => void = () => {};
    this.exceeded = new Promise<never>((_, reject) => {
      refuse = reject;
    });
    // Whoever races it handles the rejection; none must surface unhandled.
    this.exceeded.catch(() => {});
    this.#onData = (chunk) => {
      received += chunk.length;
      if (received <= limit) return;
      this.release();
      raw.unpipe();
      raw.pause();
      refuse(bodyTooLarge());
    };
    raw.on('data', this.#onData);
  }

  /**
   * Resolves once the whole body is read, within the limit: the parser may be
   * done at the closing boundary while an epilogue is still coming.
   */
  async untilEnd(): Promise<void> {
    if (this.#raw.readableEnded) return;
    this.#raw.resume();
    await Promise.race([once(this.#raw, 'end'), this.exceeded]);
  }

  release(): void {
    this.#raw.off('data', this.#onData);
  }
}
