import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuphonicSimulator } from '@auphonic-bridge/simulator';
import { AuphonicClient } from '../src/index.ts';

const KEY = 'client-webhooks-key-0123';
const OURS = 'https://bridge.example/webhooks/auphonic/secret-0123456789abcdef';
const THEIRS = 'https://n8n.example/webhook/1';

describe('AuphonicClient: webhooks of productions and presets, against the simulator', () => {
  let sim: AuphonicSimulator;
  let client: AuphonicClient;
  before(async () => {
    sim = await AuphonicSimulator.start({ apiKey: KEY });
    client = new AuphonicClient({ baseUrl: sim.baseUrl, token: KEY });
  });
  after(() => sim.close());

  it("sets and removes a production's webhook", async () => {
    const { uuid } = await sim.addProduction();
    assert.deepEqual(await client.productionWebhooks(uuid), []);
    await client.setProductionWebhook(uuid, OURS);
    assert.deepEqual(await client.productionWebhooks(uuid), [OURS]);
    await client.setProductionWebhook(uuid, '');
    assert.equal(sim.production(uuid).webhook, null);
  });

  for (const endpoint of [true, false]) {
    it(`adds and removes a preset webhook ${endpoint ? 'through webhook.json, keeping another one' : 'through the preset field, where the API has no webhook.json'}`, async () => {
      sim.presets.webhookEndpoint = endpoint;
      try {
        const preset = sim.addPreset({ webhooks: endpoint ? [THEIRS] : [] });
        await client.addPresetWebhook(preset.uuid, OURS);
        assert.deepEqual(await client.presetWebhooks(preset.uuid), {
          webhooks: endpoint ? [THEIRS, OURS] : [OURS],
          form: endpoint ? 'list' : 'field',
        });
        await client.removePresetWebhook(preset.uuid, OURS);
        assert.deepEqual((await client.presetWebhooks(preset.uuid)).webhooks, endpoint ? [THEIRS] : []);
        sim.presets.get(preset.uuid)?.webhooks.push(THEIRS);
        await client.removePresetWebhook(preset.uuid, OURS);
        assert.ok(sim.presets.get(preset.uuid)?.webhooks.includes(THEIRS), 'another webhook is never removed');
        const requests = sim.requests.filter((r) => r.path.startsWith(`/api/preset/${preset.uuid}`)).map((r) => `${r.method} ${r.path}`);
        assert.equal(
          requests.some((r) => r === `POST /api/preset/${preset.uuid}.json`),
          !endpoint,
          'the field form only where needed',
        );
      } finally {
        sim.presets.webhookEndpoint = true;
      }
    });
  }

  it('says a preset that does not exist is not found, in either form', async () => {
    for (const endpoint of [true, false]) {
      sim.presets.webhookEndpoint = endpoint;
      await assert.rejects(client.presetWebhooks('AAAAAAAAAAAAAAAAAAAAAA'), { code: 'ERR_AUPHONIC_NOT_FOUND' });
    }
    sim.presets.webhookEndpoint = true;
  });
});
