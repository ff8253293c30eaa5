// pnpm bridge webhook set|show|delete against the Auphonic simulator: both forms of a preset's
// webhooks (the webhook.json list, the preset's field), a production's field; never a secret printed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuphonicSimulator } from '@auphonic-bridge/simulator';
import type { ScriptRun } from '@auphonic-bridge/testing';
import { bridge, errorOf, jsonOf, printed } from './helpers.ts';

const API_KEY = 'cli-webhook-api-key-0123';
const SECRET = 'cli-current-secret-0123456789';
const PREVIOUS = 'cli-previous-secret-0123456789';
const PUBLIC_URL = 'https://bridge.example';
const OURS = `${PUBLIC_URL}/webhooks/auphonic/${SECRET}`;
const OLD = `${PUBLIC_URL}/webhooks/auphonic/${PREVIOUS}`;
const STALE = `${PUBLIC_URL}/webhooks/auphonic/a-secret-long-gone-0123456`;
const THEIRS = 'https://cms.example/hooks/auphonic';

type Report = {
  target: { kind: string; uuid: string };
  points_at_us: boolean;
  changed?: boolean;
  removed?: number;
  webhooks: Array<{ url: string; match: string }>;
};

describe('pnpm bridge webhook', () => {
  let sim: AuphonicSimulator;
  let env: Record<string, string>;
  const runs: ScriptRun[] = [];
  const run = async (...args: string[]) => {
    const r = await bridge(['webhook', ...args], env);
    runs.push(r);
    return r;
  };
  before(async () => {
    sim = await AuphonicSimulator.start({ apiKey: API_KEY });
    env = {
      AUPHONIC_BASE_URL: sim.baseUrl.origin,
      AUPHONIC_API_KEY: API_KEY,
      PUBLIC_URL,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
    };
  });
  after(async () => {
    await sim.close();
    // Whatever each command printed, as text or JSON, and whichever way it ended: no secret.
    for (const r of runs) {
      for (const secret of [SECRET, PREVIOUS, API_KEY, 'a-secret-long-gone']) assert.ok(!printed(r).includes(secret), `${secret} printed`);
    }
  });

  it("on a preset's webhook list: show says whose each one is, set adds ours and drops our old one, delete removes ours only", async () => {
    const preset = sim.addPreset({ webhooks: [THEIRS, OLD] });
    const shown = await run('show', '--preset', preset.uuid, '--json');
    assert.equal(shown.code, 0, shown.stderr);
    const before = jsonOf<Report>(shown);
    assert.equal(before.points_at_us, true, 'the previous secret is still taken by the ingress');
    assert.deepEqual(
      before.webhooks.map((w) => w.match),
      ['other', 'previous'],
    );
    assert.equal(before.webhooks[1]?.url, `${PUBLIC_URL}/webhooks/auphonic/[redacted]`);

    const set = await run('set', '--preset', preset.uuid);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`^preset ${preset.uuid}: now points at this bridge`));
    assert.match(set.stdout, /webhooks\/auphonic\/\[redacted\] +this bridge$/m);
    assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, [THEIRS, OURS], "another receiver's stays; our old one goes");

    const again = await run('set', '--preset', preset.uuid, '--json');
    assert.equal(again.code, 0);
    assert.equal(jsonOf<Report>(again).changed, false);

    const deleted = await run('delete', '--preset', preset.uuid, '--json');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual([jsonOf<Report>(deleted).removed, jsonOf<Report>(deleted).points_at_us], [1, false]);
    assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, [THEIRS]);
    const none = await run('delete', '--preset', preset.uuid);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no webhook of this bridge; nothing changed/);
  });

  it("on a preset's field (an API without webhook.json): replaces another receiver's webhook only with --replace", async () => {
    sim.presets.webhookEndpoint = false;
    try {
      const preset = sim.addPreset({ webhooks: [THEIRS] });
      const refused = await run('set', '--preset', preset.uuid, '--json');
      assert.equal(refused.code, 1);
      assert.equal(errorOf(refused).error, 'ERR_WEBHOOK_TAKEN');
      assert.match(errorOf(refused).message, /--replace/);
      assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, [THEIRS], 'nothing changed');

      assert.equal((await run('set', '--preset', preset.uuid, '--replace')).code, 0);
      assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, [OURS]);
      assert.equal(jsonOf<Report>(await run('show', '--preset', preset.uuid, '--json')).points_at_us, true);
      assert.equal((await run('delete', '--preset', preset.uuid)).code, 0);
      assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, []);
    } finally {
      sim.presets.webhookEndpoint = true;
    }
  });

  it("on a production's field: set replaces our address with a secret no longer accepted, show and delete", async () => {
    const { uuid } = await sim.addProduction({ webhook: STALE });
    const stale = jsonOf<Report>(await run('show', '--production', uuid, '--json'));
    assert.deepEqual([stale.points_at_us, stale.webhooks[0]?.match], [false, 'stale']);
    const set = await run('set', '--production', uuid);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(sim.production(uuid).webhook, OURS);
    const shown = await run('show', '--production', uuid);
    assert.match(shown.stdout, new RegExp(`^production ${uuid}: points at this bridge`));
    assert.equal((await run('delete', '--production', uuid)).code, 0);
    assert.equal(sim.production(uuid).webhook, null);
  });

  it("exits 1 with the API's reason: a preset Auphonic does not know, a refused API key", async () => {
    const unknown = await run('show', '--preset', 'AAAAAAAAAAAAAAAAAAAAAA', '--json');
    assert.equal(unknown.code, 1);
    assert.equal(errorOf(unknown).error, 'ERR_AUPHONIC_NOT_FOUND');
    const refused = await bridge(['webhook', 'set', '--production', 'AAAAAAAAAAAAAAAAAAAAAA'], {
      ...env,
      AUPHONIC_API_KEY: 'not-the-key-0123',
    });
    runs.push(refused);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ERR_AUPHONIC_UNAUTHORIZED/);
    assert.ok(!printed(refused).includes('not-the-key-0123'));
  });
});
