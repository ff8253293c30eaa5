import { BridgeError, ConfigError, redactCredentials, redactString } from '@auphonic-bridge/runtime';
import type { CommandResult } from './command.ts';

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Everything printed goes through the redaction the record gets: our webhook URL's secret,
 * tokens in query strings and values under secret-looking keys never reach a terminal or a log.
 */
export function printResult(io: Io, result: CommandResult, json: boolean): void {
  if (json) io.stdout.write(`${JSON.stringify(redactCredentials(result.json), null, 2)}\n`);
  else io.stdout.write(result.text.map((line) => `${redactString(line)}\n`).join(''));
}

/** An error, said once: its stable code and its message (with --json, as {"error","message"}). */
export function printError(io: Io, err: unknown, json: boolean, hint?: string): void {
  const code = err instanceof BridgeError ? err.code : 'ERR_UNEXPECTED';
  const message = redactString(err instanceof ConfigError ? err.problems.join('; ') : err instanceof Error ? err.message : String(err));
  if (json) io.stderr.write(`${JSON.stringify({ error: code, message })}\n`);
  else io.stderr.write(`error (${code}): ${err instanceof ConfigError ? err.message : message}\n${hint ? `${hint}\n` : ''}`);
}

/** Rows as aligned columns, for people. */
export function table(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}
