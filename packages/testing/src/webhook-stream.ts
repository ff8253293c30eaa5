import { Agent, request } from 'node:http';

export interface WebhookStream {
  /** The uuids whose webhook was answered 2xx. */
  acknowledged: Set<string>;
  /** How many answers of each status (0: no answer, the connection failed). */
  answers: Map<number, number>;
  /** Milliseconds each 2xx answer took. */
  latencies: number[];
  /** Stops sending, once every request under way is answered. */
  stop(): Promise<void>;
}

/**
 * Production webhooks (form-encoded, status Done), each for a new uuid, posted back to back by
 * `senders` concurrent senders over kept-alive connections until stop(): what a busy Auphonic
 * account looks like to the ingress, for counting what survives a Redis crash or failover.
 * `pauseMs` between a sender's posts spares the CPU that the other test files share.
 */
export function streamWebhooks(opts: {
  port: number;
  path: string;
  newUuid: () => string;
  senders?: number;
  pauseMs?: number;
}): WebhookStream {
  const senders = opts.senders ?? 16;
  const agent = new Agent({ keepAlive: true, maxSockets: senders });
  const post = (uuid: string) =>
    new Promise<number>((resolve) => {
      const body = `uuid=${uuid}&status=3&status_string=Done`;
      const req = request(
        {
          host: '127.0.0.1',
          port: opts.port,
          path: opts.path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const stream: Omit<WebhookStream, 'stop'> = { acknowledged: new Set(), answers: new Map(), latencies: [] };
  let streaming = true;
  const sender = async () => {
    while (streaming) {
      const uuid = opts.newUuid();
      const started = performance.now();
      const status = await post(uuid);
      stream.answers.set(status, (stream.answers.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) {
        stream.acknowledged.add(uuid);
        stream.latencies.push(performance.now() - started);
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const running = Array.from({ length: senders }, sender);
  return {
    ...stream,
    async stop() {
      streaming = false;
      await Promise.all(running);
      agent.destroy();
    },
  };
}

/** The q-quantile (0..1) of some numbers, for `# …` lines; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
