// pnpm bench: figures for this machine (a benchmark, not a test).
//  1. Webhooks accepted per second at the ingress, with p50/p99 latency.
//  2. One 1 GiB production: the worker's throughput and peak RSS, beside curl
//     fetching the same file from the same simulated server.
// BENCH_WEBHOOKS (default 5000), BENCH_CONCURRENCY (default 32), BENCH_FILE_MB (default 1024).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addProductionJob, createProductionQueue } from '@auphonic-bridge/queue';
import { AuphonicSimulator, randomUuid } from '@auphonic-bridge/simulator';
import { freePort, spawnService, startRedis, startS3, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';

const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 1024);
const out = (line: string) => process.stdout.write(`${line}\n`);

const redis = await startRedis();
const work = await mkdtemp(join(tmpdir(), 'bridge-bench-'));
try {
  out(`machine: ${(await import('node:os')).cpus().length} cores, node ${process.version}`);
  await benchIngress();
  await benchDownload();
} finally {
  await redis.close();
  await rm(work, { recursive: true, force: true });
}

async function benchIngress(): Promise<void> {
  const port = await freePort();
  const secret = randomBytes(16).toString('hex');
  const ingress = spawnService('ingress', {
    REDIS_URL: redis.url.toString(),
    WEBHOOK_SECRET: secret,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'ingress');
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const post = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: `/webhooks/auphonic/${secret}`,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // Warm up, then measure.
    for (let i = 0; i < 200; i++) await post(`uuid=${randomUuid()}&status=3&status_string=Done`);
    const latencies: number[] = [];
    let next = 0;
    let failures = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < WEBHOOKS) {
          next += 1;
          const t0 = performance.now();
          const status = await post(`uuid=${randomUuid()}&status=3&status_string=Done`);
          latencies.push(performance.now() - t0);
          if (status !== 200) failures += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(2);
    out(`ingress: ${WEBHOOKS} webhooks (form, ${CONCURRENCY} concurrent, each queued in Redis before the answer)`);
    out(`  ${(WEBHOOKS / seconds).toFixed(0)} accepted/s, p50 ${pct(50)} ms, p99 ${pct(99)} ms, non-200: ${failures}`);
    agent.destroy();
  } finally {
    await ingress.stop();
  }
}

async function benchDownload(): Promise<void> {
  const apiKey = randomBytes(16).toString('hex');
  const sim = await AuphonicSimulator.start({ apiKey, linkTtlMs: 3_600_000 });
  const connection = new Redis(redis.url.toString(), { maxRetriesPerRequest: null });
  const queue = createProductionQueue(connection);
  try {
    const source = join(work, 'source.bin');
    const block = randomBytes(1024 * 1024);
    const ws = createWriteStream(source);
    for (let i = 0; i < FILE_MB; i++) if (!ws.write(block)) await once(ws, 'drain');
    ws.end();
    await once(ws, 'finish');
    const p = await sim.addProduction({ files: [{ filename: 'big.wav', path: source }] });
    const file = p.output_files[0];
    if (!file?.download_url) throw new Error('no download_url');
    out(`download: one ${FILE_MB} MiB file, served by the simulator (302 to its storage origin) on loopback`);

    // curl: same URL, same redirect, same server, written to disk; then the same with an MD5
    // computed on the way (md5sum), which is the work the worker does on top of a plain copy.
    const curlOut = join(work, 'curl.bin');
    const curl = async (withMd5: boolean, withSync = false) => {
      const fetchCmd = `curl -sS -L -H "Authorization: Bearer ${apiKey}" '${file.download_url}'`;
      let cmd = withMd5 ? `${fetchCmd} | tee '${curlOut}' | md5sum > /dev/null` : `${fetchCmd} -o '${curlOut}'`;
      if (withSync) cmd += ` && sync '${curlOut}'`;
      const t0 = performance.now();
      await promisify(execFile)('bash', ['-o', 'pipefail', '-c', cmd], { maxBuffer: 1 << 20 });
      const seconds = (performance.now() - t0) / 1000;
      await rm(curlOut);
      return FILE_MB / seconds;
    };
    const curlRate = await curl(false);
    const curlMd5Rate = await curl(true);
    const curlMd5SyncRate = await curl(true, true);
    out(`  curl:                   ${curlRate.toFixed(0)} MiB/s to a file (left in the page cache)`);
    out(`  curl | md5sum:          ${curlMd5Rate.toFixed(0)} MiB/s to a file, MD5 on the way`);
    out(`  curl | md5sum; sync:    ${curlMd5SyncRate.toFixed(0)} MiB/s, then fsync: the same work as the worker`);

    const s3 = await startS3();
    const runs: Array<{ label: string; env: Record<string, string> }> = [
      { label: 'directory, MD5 verified', env: { STORAGE_DIR: join(work, 'storage-md5') } },
      { label: 'directory, VERIFY_CHECKSUMS=false', env: { STORAGE_DIR: join(work, 'storage-plain'), VERIFY_CHECKSUMS: 'false' } },
      {
        label: 'S3 (s3rver on loopback), MD5 verified',
        env: {
          STORAGE_URL: `s3://${s3.bucket}/bench`,
          S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        },
      },
    ];
    for (const run of runs) {
      const verify = run.env.VERIFY_CHECKSUMS !== 'false';
      const worker = spawnService('worker', {
        REDIS_URL: redis.url.toString(),
        AUPHONIC_BASE_URL: sim.baseUrl.origin,
        AUPHONIC_API_KEY: apiKey,
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
        ...run.env,
      });
      try {
        await waitFor(() => worker.output().includes('worker ready'), 'worker');
        const pid = worker.child.pid as number;
        const idleKb = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
        await queue.obliterate({ force: true });
        const job = await addProductionJob(queue, { uuid: p.uuid, owner: { kind: 'account' }, reportedStatus: 3 });
        await waitFor(async () => (await queue.getJob(job.id as string))?.finishedOn, 'the production to be stored', 600_000);
        const finished = await queue.getJob(job.id as string);
        if (finished?.failedReason) throw new Error(finished.failedReason);
        const peakKb = Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
        const stored = /"bytes":(\d+),"seconds":([\d.]+),"commitMs":(\d+)/.exec(worker.output());
        const seconds = Number(stored?.[2]);
        const rate = FILE_MB / seconds;
        const transfer = FILE_MB / (seconds - Number(stored?.[3]) / 1000);
        out(
          `  worker, ${run.label}: ${rate.toFixed(0)} MiB/s with commit (fsync and rename, or multipart complete) ` +
            `(${((rate / curlMd5SyncRate) * 100).toFixed(0)}% of curl | md5sum; sync), ${transfer.toFixed(0)} MiB/s before the fsync ` +
            `(${((transfer / (verify ? curlMd5Rate : curlRate)) * 100).toFixed(0)}% of ${verify ? 'curl | md5sum' : 'plain curl'}); ` +
            `peak RSS ${(peakKb / 1024).toFixed(0)} MB (idle ${(idleKb / 1024).toFixed(0)} MB)`,
        );
      } finally {
        await worker.stop();
        if (run.env.STORAGE_DIR) await rm(run.env.STORAGE_DIR, { recursive: true, force: true });
      }
    }
    await s3.close();
    out('  targets: worker peak RSS < 150 MB; throughput >= 80% of curl');
  } finally {
    await queue.close();
    connection.disconnect();
    await sim.close();
  }
}
