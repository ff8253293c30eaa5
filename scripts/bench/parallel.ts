// Outputs in parallel: a production of four outputs of equal size, each served at a link speed
// per connection (as a real CDN gives one connection), one after another (DOWNLOAD_CONCURRENCY=1)
// and side by side (the default, 3: the fourth shared out in ranges once three slots fall idle,
// DOWNLOAD_SPLIT_MIN_MB). The same to S3 (s3rver), where outputs are never split: whole outputs
// three at a time. BENCH_PARALLEL_MB (48 each), BENCH_LINK_MBPS (32 per connection).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startS3 } from '@auphonic-bridge/testing';
import { type Bench, bigFile, ingest, out, queueOn, ratio, rss, s3Storage, simulator, startWorker } from './common.ts';

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
    const s3 = await startS3();
    let runs = 0;
    const run = async (concurrency: string, storage: 'directory' | 's3' = 'directory') => {
      runs += 1;
      const dir = join(bench.work, `parallel-storage-${concurrency}`);
      const where = storage === 'directory' ? { STORAGE_DIR: dir } : s3Storage(s3, `parallel-${runs}`);
      const worker = await startWorker(bench, sim, { ...where, DOWNLOAD_CONCURRENCY: concurrency });
      try {
        const seconds = await ingest(queue, p.uuid);
        return { seconds, peak: (await rss(worker.child.pid as number)).peak };
      } finally {
        await worker.stop();
        await rm(dir, { recursive: true, force: true });
      }
    };
    try {
      const one = await run('1');
      const three = await run('3');
      const four = await run('4');
      const s3One = await run('1', 's3');
      const s3Three = await run('3', 's3');
      out(`outputs in parallel: 4 outputs of ${EACH_MB} MiB, each connection at ${LINK_MBPS} MiB/s:`);
      out(
        `  DOWNLOAD_CONCURRENCY=3 (default) ${three.seconds.toFixed(2)} s = ${ratio(three.seconds, one.seconds)} of one after another (${one.seconds.toFixed(2)} s); ` +
          `=4 ${four.seconds.toFixed(2)} s = ${ratio(four.seconds, one.seconds)}; peak RSS ${one.peak.toFixed(0)} / ${three.peak.toFixed(0)} / ${four.peak.toFixed(0)} MB`,
      );
      out(
        `  to S3 (s3rver; whole outputs, never split): =3 ${s3Three.seconds.toFixed(2)} s = ${ratio(s3Three.seconds, s3One.seconds)} of one after another (${s3One.seconds.toFixed(2)} s); peak RSS ${s3One.peak.toFixed(0)} / ${s3Three.peak.toFixed(0)} MB`,
      );
    } finally {
      await s3.close();
    }
  } finally {
    await close();
    await sim.close();
  }
}
