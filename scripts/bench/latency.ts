// Webhook to record: a small production (one 100 KB output) finishes in the simulator, which
// calls the ingress's webhook; the time until its record is in storage. One at a time, 200 times.
// BENCH_LATENCY_N (200).
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnService, waitFor } from '@auphonic-bridge/testing';
import { type Bench, out, percentile, simulator, startWorker } from './common.ts';

const N = Number(process.env.BENCH_LATENCY_N ?? 200);

export async function benchLatency(bench: Bench): Promise<void> {
  const sim = await simulator();
  const secret = randomBytes(16).toString('hex');
  const port = await freePort();
  const dir = join(bench.work, 'latency-storage');
  const ingress = spawnService('ingress', {
    NODE_COMPILE_CACHE: bench.compileCache.ingress,
    REDIS_URL: bench.redis.url.toString(),
    WEBHOOK_SECRET: secret,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const worker = await startWorker(bench, sim, { STORAGE_DIR: dir });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'the ingress');
    const webhook = `http://127.0.0.1:${port}/webhooks/auphonic/${secret}`;
    const times: number[] = [];
    for (let i = 0; i < N + 10; i++) {
      const p = await sim.addProduction({ status: 4, webhook, files: [{ filename: 'small.mp3', content: randomBytes(100 * 1024) }] });
      const record = join(dir, 'account', p.uuid, 'auphonic-production.json');
      const t0 = performance.now();
      void sim.completeProduction(p.uuid);
      for (;;) {
        if (
          await stat(record).then(
            () => true,
            () => false,
          )
        )
          break;
        await sleep(1);
      }
      if (i >= 10) times.push(performance.now() - t0); // the first ten warm up
    }
    times.sort((a, b) => a - b);
    out(`latency, webhook to record, a production of one 100 KB output, ${N} one after another:`);
    out(
      `  p50 ${percentile(times, 50).toFixed(1)} ms, p90 ${percentile(times, 90).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${(times.at(-1) ?? 0).toFixed(1)} ms`,
    );
  } finally {
    await worker.stop();
    await ingress.stop();
    await sim.close();
  }
}
