// Downloads: the worker beside curl on the same file, same server, same run (the worker does
// download + MD5 + fsync: `curl | md5sum; sync` is the same work, `curl -o` less); peak RSS for
// 100 MB and 1 GiB, to a directory and to S3 (s3rver), and the idle worker's RSS.
// BENCH_FILE_MB (1024), BENCH_SMALL_MB (100), BENCH_DOWNLOAD_ROUNDS (3).
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startS3Process } from '@auphonic-bridge/testing';
import { API_KEY, type Bench, bigFile, ingest, out, queueOn, ratio, rss, s3Storage, simulator, startWorker } from './common.ts';

const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 1024);
const SMALL_MB = Number(process.env.BENCH_SMALL_MB ?? 100);
const ROUNDS = Number(process.env.BENCH_DOWNLOAD_ROUNDS ?? 3);

export async function benchDownloads(bench: Bench): Promise<void> {
  const sim = await simulator();
  const { queue, close } = queueOn(bench.redis);
  const s3 = await startS3Process();
  try {
    const productions: Record<number, { uuid: string; url: string }> = {};
    for (const mb of [SMALL_MB, FILE_MB]) {
      const path = join(bench.work, `source-${mb}.bin`);
      await bigFile(path, mb);
      const p = await sim.addProduction({ files: [{ filename: 'big.wav', path }] });
      productions[mb] = { uuid: p.uuid, url: p.output_files[0]?.download_url ?? '' };
    }
    const big = productions[FILE_MB] as { uuid: string; url: string };

    // curl: the same URL, the same 302 to the simulator's storage origin, written to the same disk.
    const curlOut = join(bench.work, 'curl.bin');
    const curl = async (how: 'plain' | 'md5-sync'): Promise<number> => {
      const get = `curl -sS -L -H "Authorization: Bearer ${API_KEY}" '${big.url}'`;
      const cmd = how === 'plain' ? `${get} -o '${curlOut}'` : `${get} | tee '${curlOut}' | md5sum > /dev/null && sync '${curlOut}'`;
      const t0 = performance.now();
      await promisify(execFile)('bash', ['-o', 'pipefail', '-c', cmd], { maxBuffer: 1 << 20 });
      const seconds = (performance.now() - t0) / 1000;
      await rm(curlOut, { force: true });
      return FILE_MB / seconds;
    };
    let runNo = 0;
    const worker = async (storage: 'directory' | 's3', uuid: string) => {
      runNo += 1;
      const dir = join(bench.work, `storage-${runNo}`);
      const env = storage === 'directory' ? { STORAGE_DIR: dir } : s3Storage(s3, `run-${runNo}`);
      const w = await startWorker(bench, sim, env);
      try {
        await new Promise((r) => setTimeout(r, 1000));
        const idle = (await rss(w.child.pid as number)).now;
        const seconds = await ingest(queue, uuid);
        return { seconds, idle, peak: (await rss(w.child.pid as number)).peak };
      } finally {
        await w.stop();
        await rm(dir, { recursive: true, force: true });
      }
    };

    // Alternating rounds: the disk, the page cache and the two cores are shared and noisy.
    const rates: Record<'plain' | 'md5sync' | 'worker', number[]> = { plain: [], md5sync: [], worker: [] };
    let peakBig = 0;
    let idle = 0;
    for (let i = 0; i < ROUNDS; i++) {
      rates.plain.push(await curl('plain'));
      rates.md5sync.push(await curl('md5-sync'));
      const w = await worker('directory', big.uuid);
      rates.worker.push(FILE_MB / w.seconds);
      peakBig = Math.max(peakBig, w.peak);
      idle = w.idle;
    }
    const best = (xs: number[]) => Math.max(...xs);
    out(
      `downloads: one ${FILE_MB} MiB file from the simulator (302 to its storage origin), on loopback, best of ${ROUNDS} alternating runs:`,
    );
    out(
      `  worker ${best(rates.worker).toFixed(0)} MiB/s (download, MD5, fsync, record) = ${ratio(best(rates.worker), best(rates.md5sync))} of curl | md5sum; sync ` +
        `(${best(rates.md5sync).toFixed(0)} MiB/s), ${ratio(best(rates.worker), best(rates.plain))} of plain curl -o (${best(rates.plain).toFixed(0)} MiB/s)`,
    );
    out(
      `  runs: worker ${rates.worker.map((r) => r.toFixed(0)).join(', ')}; curl|md5sum;sync ${rates.md5sync.map((r) => r.toFixed(0)).join(', ')}; curl -o ${rates.plain.map((r) => r.toFixed(0)).join(', ')}`,
    );
    // Best against best says what each can do here; the rounds' medians, what a run usually gives.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    out(`  medians: worker ${ratio(median(rates.worker), median(rates.md5sync))} of curl | md5sum; sync`);

    const small = await worker('directory', (productions[SMALL_MB] as { uuid: string }).uuid);
    const s3Small = await worker('s3', (productions[SMALL_MB] as { uuid: string }).uuid);
    const s3Big = await worker('s3', big.uuid);
    out('memory (peak RSS of the worker process, default settings):');
    out(`  directory: ${SMALL_MB} MB ${small.peak.toFixed(0)} MB, ${FILE_MB} MiB ${peakBig.toFixed(0)} MB`);
    out(
      `  S3 (s3rver): ${SMALL_MB} MB ${s3Small.peak.toFixed(0)} MB, ${FILE_MB} MiB ${s3Big.peak.toFixed(0)} MB (${(FILE_MB / s3Big.seconds).toFixed(0)} MiB/s)`,
    );
    out(`  idle worker: ${idle.toFixed(0)} MB (directory), ${s3Small.idle.toFixed(0)} MB (S3, the AWS SDK loaded)`);
  } finally {
    await close();
    await sim.close();
    await s3.close();
  }
}
