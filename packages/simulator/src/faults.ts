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
  | { target: 'details'; kind: 'envelope-error'; statusCode: number; message: string; times?: number; uuid?: string }
  | { target: 'storage'; kind: 'cut'; afterBytes: number; times?: number; uuid?: string; filename?: string }
  | { target: 'storage'; kind: 'slow'; bytesPerSecond: number; times?: number; uuid?: string; filename?: string }
  | { target: 'storage'; kind: 'no-range'; times?: number; uuid?: string; filename?: string }
  | { target: 'download'; kind: 'expired-link'; times?: number; uuid?: string; filename?: string };

type Target = Fault['target'];

export class Faults {
  readonly #active: Array<{ fault: Fault; remaining: number }> = [];

  inject(fault: Fault): void {
    this.#active.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.#active.length = 0;
  }

  /** Takes one matching fault of the given kinds, if any. */
  take<K extends Fault['kind']>(
    target: Target,
    kinds: readonly K[],
    uuid: string,
    filename?: string,
  ): Extract<Fault, { kind: K }> | undefined {
    for (const entry of this.#active) {
      const f = entry.fault;
      if (entry.remaining <= 0 || f.target !== target || !(kinds as readonly string[]).includes(f.kind)) continue;
      if (f.uuid !== undefined && f.uuid !== uuid) continue;
      if ('filename' in f && f.filename !== undefined && f.filename !== filename) continue;
      entry.remaining -= 1;
      return f as Extract<Fault, { kind: K }>;
    }
    return undefined;
  }
}
