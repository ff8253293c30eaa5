// pnpm demo: the whole flow on this machine, no Auphonic account needed.
// Starts Redis (unless REDIS_URL is set), the Auphonic simulator, the ingress
// and the worker (as `pnpm start:*` would), finishes a production in the
// simulator so that it sends its webhook, and shows the files arriving.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AuphonicSimulator, sendWebhook } from '@auphonic-bridge/simulator';
import { freePort, REPO_ROOT, type SpawnedService, spawnService, startRedis, type TestRedis, waitFor } from '@auphonic-bridge/testing';

const say = (line: string) => process.stdout.write(`${line}\n`);
const storageDir = resolve(process.env.DEMO_STORAGE_DIR ?? join(REPO_ROOT, 'data', 'demo'));
const apiKey = randomBytes(16).toString('hex');
const secret = randomBytes(16).toString('hex');

let redis: TestRedis | undefined;
let sim: AuphonicSimulator | undefined;
const services: SpawnedService[] = [];

async function main(): Promise<void> {
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    say('• starting redis-server (set REDIS_URL to use yours)');
    redis = await startRedis();
    redisUrl = redis.url.toString();
  }
  sim = await AuphonicSimulator.start({ apiKey });
  say(`• Auphonic simulator: API ${sim.baseUrl.origin}, its object storage ${sim.storageUrl.origin}`);

  await rm(storageDir, { recursive: true, force: true });
  await mkdir(storageDir, { recursive: true });
  const port = await freePort();
  const env = {
    REDIS_URL: redisUrl,
    WEBHOOK_SECRET: secret,
    PORT: String(port),
    HOST: '127.0.0.1',
    AUPHONIC_BASE_URL: sim.baseUrl.origin,
    AUPHONIC_API_KEY: apiKey,
    STORAGE_DIR: storageDir,
    METRICS_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  services.push(spawnService('ingress', env), spawnService('worker', env));
  const ingressUrl = `http://127.0.0.1:${port}`;
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
  say('done. (service logs: LOG_LEVEL=debug pnpm demo shows them)');
  if (process.env.LOG_LEVEL === 'debug') for (const s of services) process.stdout.write(s.output());
}

async function shutdown(): Promise<void> {
  await Promise.all(services.map((s) => s.stop('SIGTERM')));
  await sim?.close();
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
