import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root, for spawning services the way `pnpm start:*` does. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface SpawnedService {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * The node arguments of `pnpm start:<name>`, read from the root package.json,
 * so that tests start a service exactly the way operators do.
 */
export function startArgs(name: string): string[] {
  return scriptArgs(`start:${name}`);
}

/** The node arguments of a root package.json script of the form "node …". */
export function scriptArgs(script: string): string[] {
  const scripts = (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = scripts[script];
  if (!command?.startsWith('node ')) throw new Error(`no "${script}" script of the form "node …"`);
  return command.split(/\s+/).slice(1);
}

export interface ScriptRun {
  /** The exit code (or the signal's name). */
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pnpm <script> <args…>` to its end, as that script runs it (its node arguments from the
 * root package.json), with exactly the given environment (plus PATH): the operator CLI's way.
 */
export async function runScript(script: string, args: readonly string[], env: Record<string, string>): Promise<ScriptRun> {
  const child = spawn(process.execPath, [...scriptArgs(script), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  return { code: code ?? signal ?? 'unknown', stdout, stderr };
}

/**
 * Services still running when the process exits are killed then, not left behind holding their
 * ports. (A test must still stop what it started, in a finally: a running service's pipes keep
 * the test file's process, and so the whole test run, waiting.)
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Runs a service as `pnpm start:<name>` does, with exactly the given environment (plus PATH).
 * `logFd`: its stdout and stderr go to that file descriptor (a benchmark's log file, as a
 * container's go to its log driver), and `output()` stays empty.
 */
export function spawnService(name: string, env: Record<string, string>, opts: { cwd?: string; logFd?: number } = {}): SpawnedService {
  const child = spawn(process.execPath, startArgs(name), {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', opts.logFd ?? 'pipe', opts.logFd ?? 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
