// Outputs in parallel: a production of four outputs of equal size, each served at a link speed
// per connection (as a real CDN gives one connection), one after another (DOWNLOAD_CONCURRENCY=1)
// and side by side (the default, 3: the fourth shared out in ranges once three slots fall idle,
// DOWNLOAD_SPLIT_MIN_MB). BENCH_PARALLEL_MB (48 each), BENCH_LINK_MBPS (32 per connection).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Bench, bigFile, ingest, out, queueOn, ratio, rss, simulator, startWorker } from './common.ts';

const EACH_MB = Number(process.env.BENCH_PARALLEL_MB ?? 48);
const LINK_MBPS = Number(process.env.BENCH_LINK_MBPS ?? 32);

export async function benchParallel(bench: Bench): Promise<void> {
  const sim = await simulator();
  const { queue, close } = queueOn(bench.redis);
  try {
    const names = ['episode.mp3', 'episode.m4a', 'episode.flac', 'episode.mp4'];
    const files = [];
    for (const [i, filename] of names.entries()) {
      const path = join(bench.work, `parallel-${i}.bin`);
      await bigFile(path, EACH_MB);
      files.push({ filename, path });
    }
    const p = await sim.addProduction({ files });
    for (const filename of names) {
      sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: LINK_MBPS * 1024 * 1024, times: 1e9, uuid: p.uuid, filename });
    }
    const run = async (concurrency: string) => {
      const dir = join(bench.work, `parallel-storage-${concurrency}`);
      const worker = await startWorker(bench, sim, { STORAGE_DIR: dir, DOWNLOAD_CONCURRENCY: concurrency });
      try {
        const seconds = await ingest(queue, p.uuid);
        return { seconds, peak: (await rss(worker.child.pid as number)).peak };
      } finally {
        await worker.stop();
        await rm(dir, { recursive: true, force: true });
      }
    };
    const one = await run('1');
    const three = await run('3');
    const four = await run('4');
    out(`outputs in parallel: 4 outputs of ${EACH_MB} MiB, each connection at ${LINK_MBPS} MiB/s:`);
    out(
      `  DOWNLOAD_CONCURRENCY=3 (default) ${three.seconds.toFixed(2)} s = ${ratio(three.seconds, one.seconds)} of one after another (${one.seconds.toFixed(2)} s); ` +
        `=4 ${four.seconds.toFixed(2)} s = ${ratio(four.seconds, one.seconds)}; peak RSS ${one.peak.toFixed(0)} / ${three.peak.toFixed(0)} / ${four.peak.toFixed(0)} MB`,
    );
  } finally {
    await close();
    await sim.close();
  }
}
