import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './process.ts';

/** The node arguments of a Dockerfile stage's compile-cache warm-up (its RUN) and of its CMD. */
export async function imageCommands(stage: string): Promise<{ warm: string[]; cmd: string[] }> {
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const text = dockerfile.split(/^FROM /m).find((part) => new RegExp(`^\\S+ AS ${stage}\\s`).test(part)) ?? '';
  const warm = /^RUN node (.*warm-compile-cache\.mjs.*)$/m.exec(text)?.[1]?.split(/\s+/);
  if (!warm) throw new Error(`the Dockerfile's ${stage} stage does not warm the compile cache`);
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(text)?.[1] ?? '[]') as string[];
  return { warm, cmd: cmd.slice(1) };
}

/**
 * Fills `cache` (a NODE_COMPILE_CACHE) as the stage's image build does, from `cwd`: a service
 * started with it then starts as a new container of that image does.
 */
export async function warmCompileCache(stage: string, cache: string, cwd = REPO_ROOT): Promise<void> {
  const { warm } = await imageCommands(stage);
  const run = spawnSync(process.execPath, warm, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: cache } });
  if (run.status !== 0) throw new Error(`warming the ${stage} compile cache failed: ${run.stderr}`);
}
