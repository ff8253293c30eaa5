/**
 * Base class for every error this project throws on purpose: callers switch on
 * `code` (stable, documented) rather than on messages or classes.
 */
export class BridgeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A setting is missing or malformed; the message names it. */
export class ConfigError extends BridgeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('ERR_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}
