import { runScript, type ScriptRun } from '@auphonic-bridge/testing';

/** `pnpm bridge <args…>`, the way an operator runs it, with exactly this environment. */
export const bridge = (args: readonly string[], env: Record<string, string> = {}): Promise<ScriptRun> => runScript('bridge', args, env);

/** The JSON document a command printed with --json. */
export function jsonOf<T = Record<string, unknown>>(run: ScriptRun): T {
  return JSON.parse(run.stdout) as T;
}

/** The {"error","message"} a failed command printed on stderr with --json. */
export function errorOf(run: ScriptRun): { error: string; message: string } {
  return JSON.parse(run.stderr.trim()) as { error: string; message: string };
}

/** Everything the run printed, to look for what must not be there. */
export const printed = (run: ScriptRun) => `${run.stdout}\n${run.stderr}`;
