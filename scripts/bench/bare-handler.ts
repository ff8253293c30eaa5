// The bare alternative the ingress is measured against: the webhook handler anyone would write
// in an afternoon. Fastify parses the form, BullMQ adds the job, 200. No secret check, no
// deduplication, no metrics. BARE_PORT, REDIS_URL.
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const queue = new Queue('bare', { connection });
const app = Fastify();
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)));
});
app.post('/hook', async (request) => {
  const { uuid, status } = request.body as { uuid: string; status: string };
  await queue.add('production', { uuid, status: Number(status) });
  return { status: 'queued', uuid };
});
app.get('/ping', async () => 'ok');
await app.listen({ port: Number(process.env.BARE_PORT ?? 3999), host: '127.0.0.1' });
process.stdout.write('bare handler ready\n');
process.once(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => queue.close())
      .then(() => connection.disconnect()),
);
