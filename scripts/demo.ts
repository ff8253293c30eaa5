// npm run demo: the whole flow on this machine, no Auphonic account needed.
// Starts Redis (unless REDIS_URL is set), the Auphonic simulator, the ingress
// and the worker (as `pnpm start:*` would), and a small receiver standing in
// for the host's own system. Then both integrations: a production finishes in
// the simulator, which calls the production webhook; a user connects through
// the OAuth pages, and their production comes as an External Service's
// signed JWT webhook. Files arrive, and so do the signed events, verified.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { AuphonicSimulator, sendWebhook } from '@auphonic-bridge/simulator';
import {
  Browser,
  freePort,
  REPO_ROOT,
  type SpawnedService,
  spawnService,
  startRedis,
  type TestRedis,
  waitFor,
} from '@auphonic-bridge/testing';
import { Webhook } from 'standardwebhooks';

const say = (line: string) => process.stdout.write(`${line}\n`);
const storageDir = resolve(process.env.DEMO_STORAGE_DIR ?? join(REPO_ROOT, 'data', 'demo'));
const apiKey = randomBytes(16).toString('hex');
const secret = randomBytes(16).toString('hex');
const oauth = { clientId: 'demo-bridge', clientSecret: randomBytes(16).toString('hex') };
const adminToken = randomBytes(24).toString('hex');
const notifySecret = `whsec_${randomBytes(32).toString('base64')}`;

/** The host's own system: takes the bridge's events and checks each signature (the standardwebhooks library). */
async function hostReceiver(onEvent: (line: string) => void) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      try {
        const event = new Webhook(notifySecret).verify(body, headers) as {
          type: string;
          data: { uuid: string; owner: { kind: string }; files: unknown[] };
        };
        onEvent(
          `${event.type} for ${event.data.owner.kind} production ${event.data.uuid}, ${event.data.files.length} files, signature verified (${headers['webhook-id']})`,
        );
        res.writeHead(204).end();
      } catch (err) {
        onEvent(`refused an event: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/bridge-events`, close: () => server.close() };
}

let redis: TestRedis | undefined;
let sim: AuphonicSimulator | undefined;
let receiver: { url: string; close(): void } | undefined;
const services: SpawnedService[] = [];

async function main(): Promise<void> {
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    say('• starting redis-server (set REDIS_URL to use yours)');
    redis = await startRedis();
    redisUrl = redis.url.toString();
  }
  const port = await freePort();
  const ingressUrl = `http://127.0.0.1:${port}`;
  sim = await AuphonicSimulator.start({ apiKey, oauth: { ...oauth, redirectUris: [`${ingressUrl}/oauth/callback`] } });
  say(`• Auphonic simulator: API ${sim.baseUrl.origin}, its object storage ${sim.storageUrl.origin}`);
  const events: string[] = [];
  receiver = await hostReceiver((line) => {
    events.push(line);
    say(`  ✉ the host's system got ${line}`);
  });
  say(`• the host's system (a small receiver) listens on ${receiver.url}`);

  await rm(storageDir, { recursive: true, force: true });
  await mkdir(storageDir, { recursive: true });
  const env = {
    REDIS_URL: redisUrl,
    WEBHOOK_SECRET: secret,
    PORT: String(port),
    HOST: '127.0.0.1',
    AUPHONIC_BASE_URL: sim.baseUrl.origin,
    AUPHONIC_API_KEY: apiKey,
    // The External Service mode, beside the production webhook.
    AUPHONIC_CLIENT_ID: oauth.clientId,
    AUPHONIC_CLIENT_SECRET: oauth.clientSecret,
    PUBLIC_URL: ingressUrl,
    ADMIN_TOKEN: adminToken,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    STORAGE_DIR: storageDir,
    NOTIFY_URL: receiver.url,
    NOTIFY_SECRET: notifySecret,
    // The receiver is on loopback: allowed here, refused by default (SSRF).
    NOTIFY_ALLOW_PRIVATE: 'true',
    METRICS_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  services.push(spawnService('ingress', env), spawnService('worker', { ...env, LOG_LEVEL: 'info' }));
  await waitFor(async () => (await fetch(`${ingressUrl}/healthz`)).ok, 'the ingress to be healthy');
  await waitFor(() => services[1]?.output().includes('worker ready'), 'the worker to be ready');
  say(`• ingress on ${ingressUrl}, worker ready, files go to ${storageDir}`);

  const webhook = `${ingressUrl}/webhooks/auphonic/${secret}`;
  const production = await sim.addProduction({
    webhook,
    metadata: { title: 'Demo Episode 1', artist: 'auphonic-bridge' },
    files: [
      { filename: 'demo-episode.mp3', content: randomBytes(8 * 1024 * 1024), bitrate: 128 },
      { filename: 'demo-episode.m4a', content: randomBytes(5 * 1024 * 1024) },
      { filename: 'demo-episode.srt', content: Buffer.from('1\n00:00:00,000 --> 00:00:02,000\nWelcome to the demo.\n') },
    ],
    // Auphonic cut 12.5 s at the start: the output times are earlier than the input times.
    image: { filename: 'demo-cover.png', content: randomBytes(64 * 1024) },
    chapters: [
      { title: 'Welcome', start: 0, startOutput: 0 },
      { title: 'The interview', start: 95, startOutput: 82.5, image: { filename: 'guest.jpg', content: randomBytes(32 * 1024) } },
      { title: 'Links', url: 'https://auphonic.com', start: 600, startOutput: 587.5 },
    ],
  });
  say(`• production ${production.uuid} finishes; Auphonic calls the webhook`);
  const delivery = await sim.completeProduction(production.uuid);
  say(`  webhook answered ${delivery.attempts.map((a) => `${a.format}: ${a.status ?? a.error}`).join(', ')}`);

  const dir = join(storageDir, 'account', production.uuid);
  const record = join(dir, 'auphonic-production.json');
  await waitFor(
    async () => (await readdir(dir).catch((): string[] => [])).includes('auphonic-production.json'),
    'the production to be stored',
    60_000,
  );
  for (const name of (await readdir(dir)).sort()) say(`  ✓ ${join(dir, name)}`);
  const stored = JSON.parse(await readFile(record, 'utf8'));
  for (const file of stored.bridge.files)
    say(
      `    ${file.kind} ${file.filename}: ${file.size} bytes, md5 ${file.md5} (${file.checksumVerified ? "matches Auphonic's checksum" : 'no checksum from Auphonic'})`,
    );
  say("  chapters.json (the output times, after Auphonic's cut; images point at the stored copies):");
  for (const line of (await readFile(join(dir, 'chapters.json'), 'utf8')).trimEnd().split('\n')) say(`    ${line}`);

  say('• the same webhook again (Auphonic retries): nothing is downloaded twice');
  await sendWebhook(webhook, { uuid: production.uuid, status: 3, status_string: 'Done' });
  await waitFor(() => services[1]?.output().includes('nothing to do'), 'the duplicate to be seen', 30_000);
  say(`  downloads of demo-episode.mp3 from storage: ${sim.downloadsStarted(production.uuid, 'demo-episode.mp3')}`);

  await externalService(ingressUrl);
  await waitFor(() => events.length >= 2, "both events to reach the host's system", 30_000);
  say('done. (service logs: LOG_LEVEL=debug npm run demo shows them)');
  if (process.env.LOG_LEVEL === 'debug') for (const s of services) process.stdout.write(s.output());
}

/** A podcast host's user connects their Auphonic account; their production arrives as an External Service's webhook. */
async function externalService(ingressUrl: string): Promise<void> {
  if (!sim) return;
  say("• External Service: the host's backend asks for a connect link (POST /api/connections, ADMIN_TOKEN)");
  const created = await fetch(`${ingressUrl}/api/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'Demo Podcast Host', custom_data: { show_id: '42' } }),
  });
  const { id, authorize_url: authorizeUrl } = (await created.json()) as { id: string; authorize_url: string };
  say(`  connection ${id}; the user's browser goes to ${authorizeUrl}`);
  const user = sim.addUser({ username: 'demo-podcaster', authorizing: true });
  const { res } = await new Browser().follow(authorizeUrl);
  say(
    `  the browser went to Auphonic's authorize page, the user allowed, and came back: "${(await res.text()).match(/<h1>(.*?)<\/h1>/)?.[1]}"`,
  );
  const [service] = sim.services(user.userId);
  say(`  Auphonic now lists the service "${service?.display_name}" for ${user.username}, its webhook ${service?.webhook_url}`);

  const production = await sim.addProduction({
    owner: user.userId,
    service: service?.uuid ?? null,
    metadata: { title: 'Demo Episode 2 (External Service)' },
    files: [{ filename: 'episode-2.mp3', content: randomBytes(2 * 1024 * 1024), bitrate: 128 }],
  });
  say(`• production ${production.uuid} of ${user.username} finishes; Auphonic POSTs a JWT signed with the OAuth client secret`);
  const delivery = await sim.completeProduction(production.uuid);
  say(`  JWT webhook answered ${delivery.attempts.map((a) => `${a.status ?? a.error} ${a.body ?? ''}`).join(', ')}`);
  const dir = join(storageDir, 'connections', id, production.uuid);
  await waitFor(
    async () => (await readdir(dir).catch((): string[] => [])).includes('auphonic-production.json'),
    "the connection's production",
    60_000,
  );
  for (const name of (await readdir(dir)).sort()) say(`  ✓ ${join(dir, name)}`);
  const stored = JSON.parse(await readFile(join(dir, 'auphonic-production.json'), 'utf8'));
  say(`    custom_data kept with it: ${JSON.stringify(stored.bridge.customData)}`);
}

async function shutdown(): Promise<void> {
  await Promise.all(services.map((s) => s.stop('SIGTERM')));
  await sim?.close();
  receiver?.close();
  await redis?.close();
}

try {
  await main();
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  for (const s of services) process.stderr.write(s.output());
  process.exitCode = 1;
} finally {
  await shutdown();
}
