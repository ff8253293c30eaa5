import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, startS3 } from '@auphonic-bridge/testing';
import { bigFile, ingest, queueOn, rss, simulator, startWorker } from './common.ts';

const redis = await startRedis();
const work = await mkdtemp(join(tmpdir(), 'tmpdl-'));
const sim = await simulator();
const { queue, close } = queueOn(redis);
const s3 = process.env.S3 ? await startS3() : null;
const MB = Number(process.env.MB ?? 1024);
await bigFile(join(work, 'src.bin'), MB);
const p = await sim.addProduction({ files: [{ filename: 'big.wav', path: join(work, 'src.bin') }] });
for (let i = 0; i < Number(process.env.RUNS ?? 1); i++) {
  const w = await startWorker({ redis, work }, sim, {
    ...(s3
      ? {
          STORAGE_URL: `s3://${s3.bucket}/run-${i}`,
          S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        }
      : { STORAGE_DIR: join(work, `st${i}`) }),
    ...(process.env.WENV
      ? Object.fromEntries(process.env.WENV.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
      : {}),
  });
  const s = await ingest(queue, p.uuid);
  console.log(`run ${i}: ${(MB / s).toFixed(0)} MiB/s peak ${(await rss(w.child.pid as number)).peak.toFixed(0)} MB`);
  await w.stop();
  console.log(
    w
      .output()
      .split('\n')
      .filter((l) => l.includes('MAXMEM'))
      .join('\n'),
  );
  await rm(join(work, `st${i}`), { recursive: true, force: true });
}
await close();
await s3?.close();
await sim.close();
await redis.close();
await rm(work, { recursive: true, force: true });
