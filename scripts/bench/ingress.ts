// Ingress against the bare handler (bare-handler.ts), same Redis, wrk as the load generator, in
// alternating rounds; the ratio of their throughputs and both p99s. wrk must be on the PATH
// (Debian: apt-get install wrk). Each round runs the two back to back, in turn the one first then the
// other: an A/A test here (the bare handler against a second one) found the first of two back-to-back
// runs the faster by a few percent. BENCH_AA=1 runs that test too, the bench's resolution in this run.
// BENCH_ROUNDS (6: this machine is noisy), BENCH_SECONDS (5), BENCH_CONNECTIONS (32),
// BENCH_LOG_LEVEL (the ingress's LOG_LEVEL: info, its default, where a turn's accepted webhooks share a line; warn writes none).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, spawnService, waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { type Bench, out, ratio } from './common.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const AA = process.env.BENCH_AA === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const LUA = fileURLToPath(new URL('./webhooks.lua', import.meta.url));

interface Round {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

export async function benchIngress(bench: Bench): Promise<void> {
  const run = promisify(execFile);
  try {
    await run('wrk', ['--version']).catch((err: { stdout?: string }) => {
      if (!err.stdout?.includes('wrk')) throw err;
    });
  } catch {
    out('ingress: skipped, wrk is not installed (apt-get install wrk)');
    return;
  }
  const secret = randomBytes(16).toString('hex');
  const oursPort = await freePort();
  const barePort = await freePort();
  const env = { REDIS_URL: bench.redis.url.toString(), LOG_LEVEL };
  // Its log lines to a file, as a container's to its log driver: not into this process's memory.
  const logPath = join(bench.work, 'ingress.log');
  const log = await open(logPath, 'w');
  const ours = spawnService(
    'ingress',
    {
      ...env,
      NODE_COMPILE_CACHE: bench.compileCache.ingress,
      WEBHOOK_SECRET: secret,
      PORT: String(oursPort),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
    },
    { logFd: log.fd },
  );
  const bareHandler = (port: number) =>
    spawn(process.execPath, [fileURLToPath(new URL('./bare-handler.ts', import.meta.url))], {
      env: { ...process.env, ...env, BARE_PORT: String(port) },
      stdio: 'ignore',
    });
  const bare = bareHandler(barePort);
  const secondPort = await freePort();
  const second = AA ? bareHandler(secondPort) : undefined;
  const redis = new Redis(bench.redis.url.toString());
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${oursPort}/healthz`)).ok, 'the ingress');
    await waitFor(async () => (await fetch(`http://127.0.0.1:${barePort}/ping`)).ok, 'the bare handler');
    if (second) await waitFor(async () => (await fetch(`http://127.0.0.1:${secondPort}/ping`)).ok, 'the second bare handler');
    const targets = {
      bare: `http://127.0.0.1:${barePort}/hook`,
      ours: `http://127.0.0.1:${oursPort}/webhooks/auphonic/${secret}`,
      second: `http://127.0.0.1:${secondPort}/hook`,
    };
    const wrk = async (url: string, seconds: number, script = true): Promise<Round> => {
      const args = ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...(script ? ['-s', LUA] : []), url];
      const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
      return parseWrk(stdout);
    };
    // Warm them up (JIT, connections), then alternate, Redis emptied before each run.
    await wrk(targets.bare, 2);
    await wrk(targets.ours, 2);
    if (second) await wrk(targets.second, 2);
    const rounds: Record<keyof typeof targets, Round[]> = { bare: [], ours: [], second: [] };
    const alternate = async (a: keyof typeof targets, b: keyof typeof targets) => {
      for (let i = 0; i < ROUNDS; i++) {
        for (const name of i % 2 === 0 ? [a, b] : [b, a]) {
          await redis.flushall();
          rounds[name].push(await wrk(targets[name], SECONDS));
        }
      }
    };
    await alternate('bare', 'ours');
    // What wrk itself can do here, with the same connections: a route that does nothing.
    const ceiling = await wrk(`http://127.0.0.1:${barePort}/ping`, SECONDS, false);
    // Of an even count, the mean of the middle two.
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = sorted.length / 2;
      return Number.isInteger(mid)
        ? ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2
        : (sorted[Math.floor(mid)] ?? Number.NaN);
    };
    const summary = (name: keyof typeof targets) => ({
      rps: median(rounds[name].map((r) => r.rps)),
      p99: median(rounds[name].map((r) => r.p99)),
      p50: median(rounds[name].map((r) => r.p50)),
      non2xx: rounds[name].reduce((sum, r) => sum + r.non2xx, 0),
    });
    // Each round's ratio of the two, run a few seconds apart: steadier than a ratio of medians
    // when the machine's speed drifts during the run (as it does here, by half at times).
    const byRound = (a: Round[], b: Round[]) => ratio(median(a.map((r, i) => r.rps / (b[i]?.rps ?? Number.NaN))), 1);
    const b = summary('bare');
    const o = summary('ours');
    out(
      `ingress vs a bare Fastify + BullMQ handler, same Redis, wrk -t2 -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS} s, the two back to back in turn either first (medians), LOG_LEVEL=${LOG_LEVEL}:`,
    );
    out(
      `  ratio ${byRound(rounds.ours, rounds.bare)} by round (the median of the rounds' ratios), ${ratio(o.rps, b.rps)} of the medians (ours ${o.rps.toFixed(0)}/s, bare ${b.rps.toFixed(0)}/s); p99 ours ${o.p99.toFixed(2)} ms, bare ${b.p99.toFixed(2)} ms; p50 ours ${o.p50.toFixed(2)} ms, bare ${b.p50.toFixed(2)} ms`,
    );
    out(
      `  rounds: ours ${rounds.ours.map((r) => r.rps.toFixed(0)).join(', ')}; bare ${rounds.bare.map((r) => r.rps.toFixed(0)).join(', ')}; non-2xx ours ${o.non2xx}, bare ${b.non2xx}`,
    );
    out(
      `  wrk's own ceiling here (a route doing nothing): ${ceiling.rps.toFixed(0)}/s, ${ratio(ceiling.rps, Math.max(o.rps, b.rps))} the faster of the two`,
    );
    if (LOG_LEVEL === 'info') out(`  ${await queuedLines(logPath)}`);
    if (second) {
      const before = rounds.bare.length;
      await alternate('bare', 'second');
      const again = rounds.bare.slice(before);
      const first = median(again.map((r) => r.rps));
      const other = summary('second');
      out(
        `  A/A, the bare handler against a second one, the same way: ${byRound(again, rounds.second)} by round, ${ratio(first, other.rps)} of the medians (${first.toFixed(0)}/s, ${other.rps.toFixed(0)}/s): how far apart two equals come out in this run`,
      );
    }
  } finally {
    // The rounds' jobs are no productions: the next sections' workers must not find them.
    await redis.flushall().catch(() => {});
    redis.disconnect();
    await ours.stop();
    await log.close();
    bare.kill('SIGTERM');
    second?.kill('SIGTERM');
  }
}

/** How many accepted webhooks the ingress's log lines named, in how many lines. */
async function queuedLines(path: string): Promise<string> {
  let lines = 0;
  let webhooks = 0;
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (!line.includes('"production webhooks queued"')) continue;
    lines += 1;
    webhooks += (JSON.parse(line) as { count: number }).count;
  }
  return `its log: ${webhooks} accepted webhooks named in ${lines} lines (${(webhooks / Math.max(1, lines)).toFixed(1)} a line)`;
}

function parseWrk(text: string): Round {
  const ms = (value: string, unit: string) =>
    Number(value) * (({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit] ?? Number.NaN);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text);
    return m ? ms(m[1] as string, m[2] as string) : Number.NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN),
    p50: pct('50'),
    p99: pct('99'),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0),
  };
}
