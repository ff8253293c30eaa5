// One process's cost of a request's log line as the ingress writes one, for scripts/bench/logs.ts:
// `node log-lines.ts <ours|pino-async> <lines per turn>`, its lines to stdout (the caller's file).
// Prints to stderr: CPU µs per line, all threads and the main thread.
import { pino } from 'pino';
import { createLogger } from '../src/logger.ts';

const [mode = 'ours', perTurnArg = '14'] = process.argv.slice(2);
const perTurn = Number(perTurnArg);
const LINES = Number(process.env.BENCH_LOG_LINES ?? 200_000);
const logger = createLogger({
  service: 'ingress',
  level: 'info',
  destination: mode === 'pino-async' ? pino.destination({ sync: false }) : undefined,
});
const note = { code: 'ERR_BAD_WEBHOOK', reason: 'uuid: not a production uuid' };
const run = async (lines: number) => {
  for (let i = 0; i < lines; i++) {
    logger
      .child({ reqId: `req-${i}` })
      .info({ ...note, method: 'POST', route: '/webhooks/auphonic/:secret', statusCode: 400, ms: 2 }, 'request completed');
    if (i % perTurn === perTurn - 1) await new Promise((resolve) => setImmediate(resolve));
  }
};
await run(LINES / 10); // warm-up
await new Promise((resolve) => setTimeout(resolve, 200));
const all = process.cpuUsage();
const main = process.threadCpuUsage();
await run(LINES);
await new Promise<void>((resolve) => logger.flush(() => resolve()));
const a = process.cpuUsage(all);
const m = process.threadCpuUsage(main);
process.stderr.write(`${JSON.stringify({ all: (a.user + a.system) / LINES, main: (m.user + m.system) / LINES })}\n`);
