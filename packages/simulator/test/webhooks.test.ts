import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuphonicSimulator } from '../src/index.ts';

const KEY = 'simulator-webhooks-key';
const HOOK = 'https://bridge.example/webhooks/auphonic/some-secret-0123456789';
const OTHER = 'https://n8n.example/webhook/abc';

describe('Auphonic simulator: webhooks of presets and productions', () => {
  let sim: AuphonicSimulator;
  before(async () => {
    sim = await AuphonicSimulator.start({ apiKey: KEY });
  });
  after(() => sim.close());

  const api = async (method: string, path: string, body?: unknown, key = KEY) => {
    const res = await fetch(new URL(path, sim.baseUrl), {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { data: Record<string, unknown> | null } };
  };

  it("sets and removes a production's webhook with POST /api/production/{uuid}.json, as the details then show", async () => {
    const { uuid } = await sim.addProduction();
    const set = await api('POST', `/api/production/${uuid}.json`, { webhook: HOOK });
    assert.equal(set.status, 200);
    assert.equal(set.body.data?.webhook, HOOK);
    assert.equal((await api('GET', `/api/production/${uuid}.json`)).body.data?.webhook, HOOK);
    assert.equal(sim.production(uuid).webhook, HOOK);
    await api('POST', `/api/production/${uuid}.json`, { webhook: '' });
    assert.equal(sim.production(uuid).webhook, null, '"" removes it');
  });

  it("keeps a preset's webhooks as a list on /api/preset/{uuid}/webhook.json, the answer's `webhook` at the top", async () => {
    const preset = sim.addPreset({ webhooks: [OTHER] });
    const path = `/api/preset/${preset.uuid}/webhook.json`;
    assert.deepEqual((await api('GET', path)).body.webhook, [OTHER]);
    assert.deepEqual((await api('POST', path, { webhook: HOOK })).body.webhook, [OTHER, HOOK]);
    assert.deepEqual((await api('POST', path, { webhook: HOOK })).body.webhook, [OTHER, HOOK], 'added once');
    assert.equal((await api('GET', `/api/preset/${preset.uuid}.json`)).body.data?.webhook, OTHER, "the preset's field shows the first");
    assert.deepEqual((await api('DELETE', path, { webhook: HOOK })).body.webhook, [OTHER]);
  });

  it('sets the preset\'s webhook field with POST /api/preset/{uuid}.json ("" removes it), and answers 404 on webhook.json where the API has none', async () => {
    const preset = sim.addPreset({ webhooks: [OTHER] });
    const set = await api('POST', `/api/preset/${preset.uuid}.json`, { webhook: HOOK });
    assert.equal(set.status, 200);
    assert.equal(set.body.data?.webhook, HOOK);
    assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, [HOOK], 'the field holds one URL');
    await api('POST', `/api/preset/${preset.uuid}.json`, { webhook: '' });
    assert.equal((await api('GET', `/api/preset/${preset.uuid}.json`)).body.data?.webhook, null);
    sim.presets.webhookEndpoint = false;
    try {
      assert.equal((await api('GET', `/api/preset/${preset.uuid}/webhook.json`)).status, 404);
    } finally {
      sim.presets.webhookEndpoint = true;
    }
  });

  it("refuses what is not an http(s) URL, another user's preset, and an unknown one", async () => {
    const preset = sim.addPreset();
    const refused = await api('POST', `/api/preset/${preset.uuid}/webhook.json`, { webhook: 'javascript:alert(1)' });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.form_errors, { webhook: ['Enter a valid URL.'] });
    assert.equal((await api('POST', `/api/preset/${preset.uuid}.json`, { webhook: 'ftp://x' })).status, 400);
    assert.deepEqual(sim.presets.get(preset.uuid)?.webhooks, [], 'nothing changed');
    const stranger = sim.accounts.addUser({ username: 'stranger', apiKey: 'stranger-key-0123' });
    const theirs = sim.addPreset({ owner: stranger.userId });
    assert.equal((await api('GET', `/api/preset/${theirs.uuid}/webhook.json`)).status, 404);
    assert.equal((await api('GET', '/api/preset/AAAAAAAAAAAAAAAAAAAAAA.json')).status, 404);
    assert.equal((await api('GET', `/api/preset/${preset.uuid}.json`, undefined, 'wrong-key')).status, 401);
  });
});
