// Where an add's time goes, without HTTP: CPU per job in this process (Node: BullMQ, ioredis,
// ours) and in Redis (INFO cpu), 32 adds in flight, for BullMQ's add as the bare handler calls
// it, then with what ours adds one thing at a time (a plain webhook's add is "+ deduplication"; one
// with custom_data also names its job id), then ours as the ingress adds a plain webhook: the job's
// JSON straight to BullMQ's backend. (The ingress's batcher, which shares socket writes among
// concurrent webhooks, is left out: in this closed loop it only adds latency.) Alternating rounds, medians.
// BENCH_ADDS (30000 per round), BENCH_ROUNDS (3).
import { randomUUID } from 'node:crypto';
import { addProductionJobId, createProductionQueue, PRODUCTION_JOB_OPTIONS } from '@auphonic-bridge/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type Bench, out } from './common.ts';

const ADDS = Number(process.env.BENCH_ADDS ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 32;

export async function benchAdds(bench: Bench): Promise<void> {
  const connection = new Redis(bench.redis.url.toString(), { maxRetriesPerRequest: 1 });
  const bare = new Queue('bare', { connection });
  const plain = new Queue('plain', { connection });
  const ours = createProductionQueue(connection);
  let n = 0;
  const uuid = () => `bench${(n++).toString(36).padStart(10, '0')}`;
  const data = () => ({ uuid: uuid(), owner: { kind: 'account' as const }, reportedStatus: 3, receivedAt: new Date().toISOString() });
  const job = () => ({ uuid: uuid(), owner: { kind: 'account' as const }, reportedStatus: 3 });
  const dedup = (d: { uuid: string }) => ({ id: `account-${d.uuid}`, keepLastIfActive: true });
  const variants: Array<[string, () => Promise<unknown>]> = [
    ['bare: queue.add, default options', () => bare.add('production', { uuid: uuid(), status: 3 })],
    ['+ our job data', () => plain.add('production', data())],
    ['+ attempts, backoff', () => plain.add('production', data(), PRODUCTION_JOB_OPTIONS)],
    [
      '+ deduplication',
      () => {
        const d = data();
        return plain.add('production', d, { ...PRODUCTION_JOB_OPTIONS, deduplication: dedup(d) });
      },
    ],
    [
      '+ own job id (for a repeat with custom_data)',
      () => {
        const d = data();
        return plain.add('production', d, { ...PRODUCTION_JOB_OPTIONS, jobId: randomUUID(), deduplication: dedup(d) });
      },
    ],
    ['ours: its JSON to the backend, no Job', () => addProductionJobId(ours, job())],
  ];
  const redisCpu = async () => {
    const info = await connection.info('cpu');
    const get = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (get('used_cpu_sys') + get('used_cpu_user')) * 1e6;
  };
  const round = async (add: () => Promise<unknown>) => {
    await connection.flushall();
    let started = 0;
    const cpu = process.cpuUsage();
    const redis0 = await redisCpu();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (started < ADDS) {
          started += 1;
          await add();
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    return { perSecond: ADDS / seconds, node: (used.user + used.system) / ADDS, redis: ((await redisCpu()) - redis0) / ADDS };
  };
  try {
    const results = new Map<string, Array<{ perSecond: number; node: number; redis: number }>>();
    await round(variants[0]?.[1] as () => Promise<unknown>); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, add] of variants) results.set(name, [...(results.get(name) ?? []), await round(add)]);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    out(`adds without HTTP, ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds of ${ADDS} (medians; CPU µs per job):`);
    out(`  ${'what'.padEnd(46)}   jobs/s   Node µs  Redis µs`);
    for (const [name, rs] of results) {
      const m = (f: (r: { perSecond: number; node: number; redis: number }) => number) => median(rs.map(f));
      out(
        `  ${name.padEnd(46)} ${m((r) => r.perSecond)
          .toFixed(0)
          .padStart(8)} ${m((r) => r.node)
          .toFixed(1)
          .padStart(9)} ${m((r) => r.redis)
          .toFixed(1)
          .padStart(9)}`,
      );
    }
  } finally {
    await connection.flushall().catch(() => {});
    await Promise.all([bare.close(), plain.close(), ours.close()]);
    connection.disconnect();
  }
}
