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
  const scripts = (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = scripts[`start:${name}`];
  if (!command?.startsWith('node ')) throw new Error(`no "start:${name}" script of the form "node …"`);
  return command.split(/\s+/).slice(1);
}

/** Runs a service as `pnpm start:<name>` does, with exactly the given environment (plus PATH). */
export function spawnService(name: string, env: Record<string, string>, opts: { cwd?: string } = {}): SpawnedService {
  const child = spawn(process.execPath, startArgs(name), {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
