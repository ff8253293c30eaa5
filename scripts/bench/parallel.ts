// Outputs in parallel: a production of four outputs of equal size, each served at a link speed
// per connection (as a real CDN gives one connection), one after another (DOWNLOAD_CONCURRENCY=1)
// and side by side (the default, 3: the fourth shared out in ranges once three slots fall idle,
// DOWNLOAD_SPLIT_MIN_MB). The same to S3 (s3rver): there a range is written straight into whole
// parts and spooled for the MD5 (DOWNLOAD_SPLIT_SPOOL_MB), and also run with whole outputs only
// (DOWNLOAD_SPLIT_SPOOL_MB=0). BENCH_PARALLEL_MB (48 each), BENCH_LINK_MBPS (32 per connection).
import { rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startS3Process } from '@auphonic-bridge/testing';
import {
  type Bench,
  bigFile,
  cpuSeconds,
  ingest,
  out,
  queueOn,
  ratio,
  rss,
  s3Storage,
  selfCpuSeconds,
  simulator,
  startWorker,
} from './common.ts';

const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

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
    const s3 = await startS3Process();
    let runs = 0;
    const run = async (concurrency: string, storage: 'directory' | 's3' = 'directory', env: Record<string, string> = {}) => {
      runs += 1;
      const dir = join(bench.work, `parallel-storage-${concurrency}`);
      const where = storage === 'directory' ? { STORAGE_DIR: dir } : s3Storage(s3, `parallel-${runs}`);
      const worker = await startWorker(bench, sim, { ...where, ...env, DOWNLOAD_CONCURRENCY: concurrency });
      try {
        // Every process of the run: the worker, s3rver, and this one (the simulator).
        // s3rver hashes and writes every byte on one thread: on a small machine it is S3's limit.
        const s3Cpu = async () => (storage === 's3' && s3.pid ? cpuSeconds(s3.pid) : 0);
        const cpu = async () => (await cpuSeconds(worker.child.pid as number)) + (await s3Cpu()) + selfCpuSeconds();
        const [all0, s30] = [await cpu(), await s3Cpu()];
        const seconds = await ingest(queue, p.uuid);
        const [all, s3rver] = [(await cpu()) - all0, (await s3Cpu()) - s30];
        return {
          seconds,
          busy: all / seconds / cpus().length,
          s3rver: s3rver / seconds,
          peak: (await rss(worker.child.pid as number)).peak,
        };
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
      const s3Whole = await run('3', 's3', { DOWNLOAD_SPLIT_SPOOL_MB: '0' });
      out(`outputs in parallel: 4 outputs of ${EACH_MB} MiB, each connection at ${LINK_MBPS} MiB/s:`);
      out(
        `  DOWNLOAD_CONCURRENCY=3 (default) ${three.seconds.toFixed(2)} s = ${ratio(three.seconds, one.seconds)} of one after another (${one.seconds.toFixed(2)} s); ` +
          `=4 ${four.seconds.toFixed(2)} s = ${ratio(four.seconds, one.seconds)}; peak RSS ${one.peak.toFixed(0)} / ${three.peak.toFixed(0)} / ${four.peak.toFixed(0)} MB`,
      );
      out(
        `  to S3 (s3rver): =3 ${s3Three.seconds.toFixed(2)} s = ${ratio(s3Three.seconds, s3One.seconds)} of one after another (${s3One.seconds.toFixed(2)} s); ` +
          `whole outputs only (DOWNLOAD_SPLIT_SPOOL_MB=0) ${s3Whole.seconds.toFixed(2)} s = ${ratio(s3Whole.seconds, s3One.seconds)}; ` +
          `all CPU busy (worker, s3rver, simulator) ${pct(s3One.busy)} / ${pct(s3Three.busy)} / ${pct(s3Whole.busy)} of ${cpus().length} cores, ` +
          `s3rver alone ${pct(s3One.s3rver)} / ${pct(s3Three.s3rver)} / ${pct(s3Whole.s3rver)} of one; ` +
          `peak RSS ${s3One.peak.toFixed(0)} / ${s3Three.peak.toFixed(0)} / ${s3Whole.peak.toFixed(0)} MB`,
      );
    } finally {
      await s3.close();
    }
  } finally {
    await close();
    await sim.close();
  }
}
