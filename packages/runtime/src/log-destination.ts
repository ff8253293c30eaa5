import { pino } from 'pino';

/**
 * Where a service's log lines go by default: stdout, written once per turn of the event loop.
 * The lines of a turn are gathered and written together, synchronously, when the turn ends
 * (setImmediate): one write(2) for all of them, none waiting on libuv's thread pool (which
 * the worker keeps for its files), and no line left in memory past its turn. Under load the
 * ingress writes about 14 lines a turn; a line cost it 6.5-7 µs of CPU with pino's
 * asynchronous destination and 4.2 gathered so (scripts/bench: ingress, BENCH_LOG_LEVEL=info).
 * sonic-boom does the writing (partial writes, EAGAIN), as with pino's own destinations;
 * like pino's default, a stdout that does not drain holds up the process.
 */
export class TurnBatchedDestination implements pino.DestinationStream {
  readonly #out: ReturnType<typeof pino.destination>;
  #pending = '';
  #scheduled = false;
  readonly #flushNow = () => this.flushSync();

  constructor(fd = 1) {
    this.#out = pino.destination({ dest: fd, sync: true });
    // What a turn cut short by process.exit() gathered still goes out.
    process.on('exit', this.#flushNow);
  }

  write(line: string): void {
    this.#pending += line;
    // A turn that logs a great deal still writes as it goes.
    if (this.#pending.length >= MAX_PENDING) this.flushSync();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushNow);
    }
  }

  /** Writes what the turn gathered, now (pino's logger.flush() calls it). */
  flushSync(): void {
    this.#scheduled = false;
    if (this.#pending === '') return;
    const lines = this.#pending;
    this.#pending = '';
    this.#out.write(lines);
  }

  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }
}

const MAX_PENDING = 64 * 1024;

let stdout: TurnBatchedDestination | undefined;

/** The one stdout destination of this process (one exit hook, one writer). */
export function stdoutDestination(): TurnBatchedDestination {
  stdout ??= new TurnBatchedDestination(1);
  return stdout;
}
