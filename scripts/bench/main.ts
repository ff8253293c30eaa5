// pnpm bench: figures for this machine, each beside its bare alternative in the same run (a
// benchmark, not a test: absolute figures move with the machine, ratios much less).
// BENCH_ONLY=ingress,adds,logs,downloads,parallel,latency,scale picks sections (default: all).
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, warmCompileCache } from '@auphonic-bridge/testing';
import { benchAdds } from './adds.ts';
import { out } from './common.ts';
import { benchDownloads } from './downloads.ts';
import { benchIngress } from './ingress.ts';
import { benchLatency } from './latency.ts';
import { benchLogs } from './logs.ts';
import { benchParallel } from './parallel.ts';
import { benchScale } from './scale.ts';

const sections = {
  ingress: benchIngress,
  adds: benchAdds,
  logs: benchLogs,
  downloads: benchDownloads,
  parallel: benchParallel,
  latency: benchLatency,
  scale: benchScale,
};
const only = (process.env.BENCH_ONLY ?? Object.keys(sections).join(',')).split(',');

const redis = await startRedis();
const work = await mkdtemp(join(tmpdir(), 'bridge-bench-'));
// Without it, the first start of a module strips its TypeScript (the stripper: 20-25 MB more).
const compileCache = { ingress: join(work, 'compile-cache-ingress'), worker: join(work, 'compile-cache-worker') };
try {
  await warmCompileCache('ingress', compileCache.ingress);
  await warmCompileCache('worker', compileCache.worker);
  out(
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), node ${process.version}, Redis without persistence`,
  );
  for (const [name, run] of Object.entries(sections)) if (only.includes(name)) await run({ redis, work, compileCache });
} finally {
  await redis.close();
  await rm(work, { recursive: true, force: true });
}
