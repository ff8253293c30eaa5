// Scale-out: 400 small productions (one 100 KB output each) queued at once, stored by 1, 2 and 4
// worker processes; productions per minute, and where the time went: the workers' CPU, and that of
// the rest on the same cores (this process, which is the simulator serving the files, and Redis).
// BENCH_SCALE_N (400).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { addProductionJob } from '@auphonic-bridge/queue';
import { waitFor } from '@auphonic-bridge/testing';
import { type Bench, cpuSeconds, out, queueOn, selfCpuSeconds, simulator, startWorker } from './common.ts';

const N = Number(process.env.BENCH_SCALE_N ?? 400);

export async function benchScale(bench: Bench): Promise<void> {
  const sim = await simulator();
  const { queue, connection, close } = queueOn(bench.redis);
  try {
    const uuids: string[] = [];
    for (let i = 0; i < N; i++)
      uuids.push((await sim.addProduction({ files: [{ filename: 'small.mp3', content: randomBytes(100 * 1024) }] })).uuid);
    out(`scale-out: ${N} productions of one 100 KB output, queued at once:`);
    const redisCpu = async () => {
      const info = await connection.info('cpu');
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
      return field('used_cpu_sys') + field('used_cpu_user');
    };
    const selfCpu = selfCpuSeconds;
    out('  workers  productions/min  seconds  workers CPU (s)  simulator + Redis CPU (s)  all busy');
    for (const count of [1, 2, 4]) {
      await queue.obliterate({ force: true });
      const dir = join(bench.work, `scale-${count}`);
      const workers = await Promise.all(Array.from({ length: count }, () => startWorker(bench, sim, { STORAGE_DIR: dir })));
      try {
        const cpu0 = await Promise.all(workers.map((w) => cpuSeconds(w.child.pid as number)));
        const rest0 = selfCpu() + (await redisCpu());
        const t0 = performance.now();
        // As webhooks add them (deduplicated): a job without its production's deduplication is only queued anew.
        await Promise.all(uuids.map((uuid) => addProductionJob(queue, { uuid, owner: { kind: 'account' }, reportedStatus: 3 })));
        await waitFor(async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= N, 'all stored', 600_000);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = (await Promise.all(workers.map((w) => cpuSeconds(w.child.pid as number)))).reduce(
          (s, c, i) => s + c - (cpu0[i] ?? 0),
          0,
        );
        const rest = selfCpu() + (await redisCpu()) - rest0;
        const failed = (await queue.getJobCounts('failed')).failed;
        const cores = cpus().length;
        out(
          `  ${String(count).padStart(7)}  ${(N / (seconds / 60)).toFixed(0).padStart(15)}  ${seconds.toFixed(1).padStart(7)}  ${cpu.toFixed(1).padStart(15)}  ${rest.toFixed(1).padStart(25)}  ${(((cpu + rest) / seconds / cores) * 100).toFixed(0).padStart(5)}% of ${cores} cores${failed ? `, ${failed} failed` : ''}`,
        );
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await close();
    await sim.close();
  }
}
