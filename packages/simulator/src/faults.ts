/** Faults tests switch on; each matching request consumes one (times defaults to 1). */
export type Fault =
  | {
      target: 'details' | 'download' | 'storage';
      kind: 'status';
      status: number;
      times?: number;
      retryAfterSeconds?: number;
      uuid?: string;
      filename?: string;
    }
  /** A flaky Auphonic: each matching request fails with probability `rate`, with one of `statuses`; never used up. */
  | { target: 'details' | 'download' | 'storage'; kind: 'flaky'; rate: number; statuses?: number[]; uuid?: string; filename?: string }
  | { target: 'details'; kind: 'envelope-error'; statusCode: number; message: string; times?: number; uuid?: string }
  | { target: 'storage'; kind: 'cut'; afterBytes: number; times?: number; uuid?: string; filename?: string }
  | { target: 'storage'; kind: 'slow'; bytesPerSecond: number; times?: number; uuid?: string; filename?: string }
  | { target: 'storage'; kind: 'no-range'; times?: number; uuid?: string; filename?: string }
  /** The body arrives whole but with one byte changed (a bad transfer, caught by the checksum). */
  | { target: 'storage'; kind: 'corrupt'; times?: number; uuid?: string; filename?: string }
  | { target: 'download'; kind: 'expired-link'; times?: number; uuid?: string; filename?: string };

type Target = Fault['target'];

export class Faults {
  readonly #active: Array<{ fault: Fault; remaining: number }> = [];
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  inject(fault: Fault): void {
    this.#active.push({ fault, remaining: fault.kind === 'flaky' ? Number.POSITIVE_INFINITY : (fault.times ?? 1) });
  }

  clear(): void {
    this.#active.length = 0;
  }

  /** Takes one matching fault of the given kinds, if any. A flaky one, when it strikes, comes as a status fault. */
  take<K extends Fault['kind']>(
    target: Target,
    kinds: readonly K[],
    uuid: string,
    filename?: string,
  ): Extract<Fault, { kind: K }> | undefined {
    for (const entry of this.#active) {
      const f = entry.fault;
      const wanted =
        (kinds as readonly string[]).includes(f.kind) || (f.kind === 'flaky' && (kinds as readonly string[]).includes('status'));
      if (entry.remaining <= 0 || f.target !== target || !wanted) continue;
      if (f.uuid !== undefined && f.uuid !== uuid) continue;
      if ('filename' in f && f.filename !== undefined && f.filename !== filename) continue;
      if (f.kind === 'flaky') {
        if (this.#random() >= f.rate) continue;
        const statuses = f.statuses ?? [500, 502, 503];
        const status = statuses[Math.floor(this.#random() * statuses.length)] ?? 503;
        return { target: f.target, kind: 'status', status } as Extract<Fault, { kind: K }>;
      }
      entry.remaining -= 1;
      return f as Extract<Fault, { kind: K }>;
    }
    return undefined;
  }
}
