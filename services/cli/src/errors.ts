import { BridgeError } from '@auphonic-bridge/runtime';

/** The exit codes: done, failed, or not understood (nothing was done). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command line is not one the CLI understands: nothing was done (exit 2). */
export class UsageError extends BridgeError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** A command understood but failed, with a stable code (exit 1). */
export class CommandError extends BridgeError {}
