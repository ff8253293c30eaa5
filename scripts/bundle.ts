// node scripts/bundle.ts <service>[,<service>...] <out-dir>
// The pruned bundle of one service (or a few in one image: the worker's holds the CLI too): its sources, the workspace packages it
// depends on, and only their production dependencies, laid out as in the
// repository (Node strips types only outside node_modules, so workspace
// packages stay as sources, linked, not copied into node_modules). The
// Dockerfile builds its images from this; the tests start it outside Docker.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [service, outArg] = process.argv.slice(2);
if (!service || !outArg) {
  process.stderr.write('usage: node scripts/bundle.ts <service>[,<service>...] <out-dir>\n');
  process.exit(64);
}
const root = resolve(import.meta.dirname, '..');
const out = resolve(outArg);
const SCOPE = '@auphonic-bridge/';

function manifest(dir: string): { name: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
}

/** The service and every workspace package it needs at run time, as repository paths. */
function closure(start: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    for (const [name, version] of Object.entries(manifest(dir).dependencies ?? {})) {
      if (version.startsWith('workspace:')) visit(`packages/${name.slice(SCOPE.length)}`);
    }
  };
  visit(start);
  return [...seen];
}

const serviceDirs = service.split(',').map((name) => `services/${name}`);
for (const dir of serviceDirs) {
  if (!existsSync(join(root, dir, 'package.json'))) {
    process.stderr.write(`no service ${dir.slice('services/'.length)}\n`);
    process.exit(64);
  }
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.node-version']) cpSync(join(root, file), join(out, file));
// The dependency patches pnpm-workspace.yaml names (patchedDependencies): the install applies them.
cpSync(join(root, 'patches'), join(out, 'patches'), { recursive: true });
const dirs = [...new Set(serviceDirs.flatMap(closure))];
for (const dir of dirs) {
  for (const part of ['package.json', 'src', 'README.md']) {
    if (existsSync(join(root, dir, part))) cpSync(join(root, dir, part), join(out, dir, part), { recursive: true });
  }
}
// Production dependencies of these services only; the lockfile decides the versions.
const filters = serviceDirs.flatMap((dir) => ['--filter', `${manifest(dir).name}...`]);
execFileSync('pnpm', ['install', '--prod', '--frozen-lockfile', '--ignore-scripts=false', ...filters], {
  cwd: out,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, CI: 'true' },
});
process.stdout.write(`${JSON.stringify({ service, out, packages: dirs })}\n`);
