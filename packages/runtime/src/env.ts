import { ConfigError } from './errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** What the examples put where a secret goes. */
const PLACEHOLDER = 'CHANGE_ME';

/**
 * Reads settings from the environment and collects every problem, so that one
 * start-up failure lists all the settings to fix, each by name.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: string[] = [];

  constructor(env: Env = process.env) {
    this.#env = env;
  }

  #raw(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    // The examples' placeholder (deploy/…/secrets.env.example): a process must not run with it, whatever else the value passes.
    if (value === PLACEHOLDER)
      return this.#fail(name, `is still the example's placeholder ${PLACEHOLDER}: set it (or leave it empty)`, undefined);
    return value === '' ? undefined : value;
  }

  /** One problem per setting: the first says what to fix. */
  #fail<T>(name: string, why: string, fallback: T): T {
    if (!this.#problems.some((p) => p.startsWith(`${name}: `))) this.#problems.push(`${name}: ${why}`);
    return fallback;
  }

  string(name: string, opts: { default?: string; minLength?: number } = {}): string {
    const value = this.#raw(name) ?? opts.default;
    if (value === undefined) return this.#fail(name, 'is required', '');
    if (opts.minLength !== undefined && value.length < opts.minLength) {
      return this.#fail(name, `must be at least ${opts.minLength} characters`, '');
    }
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.#raw(name);
  }

  /** A secret: checked for length, and never echoed in a problem message. */
  secret(name: string, opts: { minLength: number; optional?: boolean }): string {
    const value = this.#raw(name);
    if (value === undefined) {
      return opts.optional ? '' : this.#fail(name, 'is required', '');
    }
    if (value.length < opts.minLength) {
      return this.#fail(name, `must be at least ${opts.minLength} characters`, '');
    }
    if (!/^[A-Za-z0-9._~-]+$/.test(value)) {
      return this.#fail(name, 'may only contain letters, digits and . _ ~ -', '');
    }
    return value;
  }

  int(name: string, opts: { default: number; min?: number; max?: number }): number {
    const raw = this.#raw(name);
    if (raw === undefined) return opts.default;
    if (!/^-?\d+$/.test(raw)) return this.#fail(name, `must be an integer, got "${raw}"`, opts.default);
    const value = Number(raw);
    if (opts.min !== undefined && value < opts.min) return this.#fail(name, `must be >= ${opts.min}`, opts.default);
    if (opts.max !== undefined && value > opts.max) return this.#fail(name, `must be <= ${opts.max}`, opts.default);
    return value;
  }

  /** A duration with its unit (`500ms`, `30s`, `15m`, `48h`, `7d`), in milliseconds. */
  duration(name: string, opts: { default: string; min?: string; max?: string }): number {
    const raw = this.#raw(name) ?? opts.default;
    const value = parseDuration(raw);
    const fallback = parseDuration(opts.default) ?? 0;
    if (value === null) return this.#fail(name, `must be a duration such as 90s, 15m, 48h or 7d, got "${raw}"`, fallback);
    if (opts.min !== undefined && value < (parseDuration(opts.min) ?? 0)) return this.#fail(name, `must be at least ${opts.min}`, fallback);
    if (opts.max !== undefined && value > (parseDuration(opts.max) ?? Number.POSITIVE_INFINITY)) {
      return this.#fail(name, `must be at most ${opts.max}`, fallback);
    }
    return value;
  }

  bool(name: string, opts: { default: boolean }): boolean {
    const raw = this.#raw(name)?.toLowerCase();
    if (raw === undefined) return opts.default;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    return this.#fail(name, `must be true or false, got "${raw}"`, opts.default);
  }

  oneOf<T extends string>(name: string, choices: readonly T[], opts: { default: T }): T {
    const raw = this.#raw(name) ?? opts.default;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    return this.#fail(name, `must be one of ${choices.join(', ')}, got "${raw}"`, opts.default);
  }

  url(name: string, opts: { default?: string; protocols: readonly string[] }): URL {
    const raw = this.#raw(name) ?? opts.default;
    const fallback = new URL('http://invalid.invalid/');
    if (raw === undefined) return this.#fail(name, 'is required', fallback);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      // The value may hold credentials (a Redis URL with a password): do not echo it.
      return this.#fail(name, 'is not a valid URL', fallback);
    }
    if (!opts.protocols.includes(url.protocol)) {
      return this.#fail(name, `must use ${opts.protocols.join(' or ')}, got ${url.protocol}`, fallback);
    }
    return url;
  }

  /** Adds a problem found by a check across settings. */
  problem(name: string, why: string): void {
    this.#problems.push(`${name}: ${why}`);
  }

  /** Throws one ConfigError naming every bad setting, if there is any. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `48h` → 172800000; null when it is not a number with one of the units ms, s, m, h, d. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN));
}
