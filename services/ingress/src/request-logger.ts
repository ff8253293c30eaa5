import type { Logger } from '@auphonic-bridge/runtime';
import type { FastifyBaseLogger } from 'fastify';

/**
 * Fastify gives every request a child logger (its reqId). A pino child costs
 * on creation (its bindings go through redaction), and under load most
 * requests never log at the configured level: this one becomes a real child
 * only when something is logged through it. A class, so that a request
 * costs one small object, not a closure per level.
 */
class LazyChild {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  #real: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #child(): Logger {
    this.#real ??= this.#parent.child(this.#bindings);
    return this.#real;
  }

  get level(): string {
    return (this.#real ?? this.#parent).level;
  }

  set level(value: string) {
    this.#child().level = value;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#real ?? this.#parent).isLevelEnabled(level);
  }

  fatal(...args: unknown[]): void {
    if (this.isLevelEnabled('fatal')) (this.#child().fatal as (...a: unknown[]) => void)(...args);
  }
  error(...args: unknown[]): void {
    if (this.isLevelEnabled('error')) (this.#child().error as (...a: unknown[]) => void)(...args);
  }
  warn(...args: unknown[]): void {
    if (this.isLevelEnabled('warn')) (this.#child().warn as (...a: unknown[]) => void)(...args);
  }
  info(...args: unknown[]): void {
    if (this.isLevelEnabled('info')) (this.#child().info as (...a: unknown[]) => void)(...args);
  }
  debug(...args: unknown[]): void {
    if (this.isLevelEnabled('debug')) (this.#child().debug as (...a: unknown[]) => void)(...args);
  }
  trace(...args: unknown[]): void {
    if (this.isLevelEnabled('trace')) (this.#child().trace as (...a: unknown[]) => void)(...args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.#child().child(bindings, options) as FastifyBaseLogger;
  }
}

export function lazyChild(parent: Logger, bindings: Record<string, unknown>): FastifyBaseLogger {
  return new LazyChild(parent, bindings) as unknown as FastifyBaseLogger;
}
