// A request's log line as the ingress writes one (each answered request but accepted webhooks, at
// LOG_LEVEL=info; those share a line a turn): CPU per line with our
// stdout destination (lines gathered, and written together at most 10 ms after the first) beside pino's
// asynchronous one (sonic-boom, its writes on libuv's thread pool), at 14 lines a turn (what
// the ingress writes under wrk) and at 1. Each in a process of its own, its lines to a file;
// alternating rounds, medians. BENCH_ROUNDS (3), BENCH_LOG_LINES (200000).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bench, out, ratio } from './common.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCRIPT = fileURLToPath(new URL('../../packages/runtime/bench/log-lines.ts', import.meta.url));

export async function benchLogs(bench: Bench): Promise<void> {
  const measure = async (mode: string, perTurn: number): Promise<{ all: number; main: number }> => {
    const file = await open(join(bench.work, `log-lines-${mode}.log`), 'w');
    try {
      // Its lines to a file, as a container's to its log driver; its figures on stderr.
      const child = spawn(process.execPath, [SCRIPT, mode, String(perTurn)], { stdio: ['ignore', file.fd, 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`log-lines.ts ${mode} exited ${code}: ${stderr}`);
      return JSON.parse(stderr.trim().split('\n').at(-1) as string) as { all: number; main: number };
    } finally {
      await file.close();
    }
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  out(`log lines (a request's, as the ingress writes one), CPU per line, ${ROUNDS} alternating rounds (medians):`);
  for (const perTurn of [14, 1]) {
    const runs: Record<string, Array<{ all: number; main: number }>> = { ours: [], 'pino-async': [] };
    for (let i = 0; i < ROUNDS; i++) for (const mode of ['pino-async', 'ours']) runs[mode]?.push(await measure(mode, perTurn));
    const m = (mode: string, k: 'all' | 'main') => median((runs[mode] ?? []).map((r) => r[k]));
    out(
      `  ${perTurn} a turn: ours ${m('ours', 'all').toFixed(2)} µs (main thread ${m('ours', 'main').toFixed(2)}), pino's async destination ${m('pino-async', 'all').toFixed(2)} µs (main thread ${m('pino-async', 'main').toFixed(2)}): ${ratio(m('ours', 'all'), m('pino-async', 'all'))}`,
    );
  }
}
