// The driver of `docker compose --profile demo up`: asks the simulator for a
// production whose webhook points at the demo ingress, finishes it, and shows
// the files arriving in the demo storage volume.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name}: is required`);
  return value;
};
const simulator = env('SIMULATOR_URL');
const apiKey = env('SIMULATOR_API_KEY');
const webhook = env('DEMO_WEBHOOK_URL');
const storage = env('DEMO_STORAGE_DIR');
const say = (line: string) => process.stdout.write(`${line}\n`);

const call = async (path: string, body: unknown) => {
  const res = await fetch(`${simulator}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json() as Promise<Record<string, unknown>>;
};

for (let i = 0; ; i++) {
  try {
    await fetch(`${simulator}/api/info/production_status.json`);
    break;
  } catch {
    if (i > 60) throw new Error('the simulator did not come up');
    await sleep(1000);
  }
}
const production = await call('/_simulator/productions', {
  webhook,
  metadata: { title: 'Compose Demo Episode' },
  files: [
    { filename: 'demo-episode.mp3', content: { size: 8 * 1024 * 1024 } },
    { filename: 'demo-episode.m4a', content: { size: 4 * 1024 * 1024 } },
    { filename: 'demo-episode.srt', content: '1\n00:00:00,000 --> 00:00:02,000\nWelcome to the demo.\n' },
  ],
  image: { filename: 'demo-cover.png', content: { size: 64 * 1024 } },
  chapters: [
    { title: 'Welcome', start: 0, startOutput: 0 },
    { title: 'The interview', start: 95, startOutput: 82.5, image: { filename: 'guest.jpg', content: { size: 32 * 1024 } } },
    { title: 'Links', url: 'https://auphonic.com', start: 600, startOutput: 587.5 },
  ],
});
const uuid = String(production.uuid);
say(`production ${uuid} finishes; the simulator calls ${webhook.replace(/[^/]+$/, '<secret>')}`);
say(JSON.stringify(await call(`/_simulator/productions/${uuid}/complete`, {})));
const dir = join(storage, 'account', uuid);
for (let i = 0; i < 120; i++) {
  const names = await readdir(dir).catch((): string[] => []);
  if (names.includes('auphonic-production.json')) {
    for (const name of names.sort()) say(`stored: ${join(dir, name)}`);
    process.exit(0);
  }
  await sleep(1000);
}
throw new Error('the production did not arrive in time');
