import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectionStore, Sealer } from '@auphonic-bridge/connections';
import { waitFor } from '@auphonic-bridge/testing';
import { Redis } from 'ioredis';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

const KEY = Buffer.alloc(32, 9);

describe('the reconciler: finished productions whose webhook never came', () => {
  let f: WorkerFixture;
  let redis: Redis;
  let connectionId: string;
  let serviceUuid: string;
  let userId: string;
  before(async () => {
    f = await startFixture();
    // A connected External Service user, as the OAuth flow leaves one.
    redis = new Redis(f.redis.url.toString());
    const store = new ConnectionStore(redis, new Sealer(KEY));
    const user = f.sim.accounts.addUser({ username: 'podcaster', apiKey: 'podcaster-token-0123456789' });
    userId = user.userId;
    await store.saveAccessToken(user.userId, 'podcaster-token-0123456789');
    const service = f.sim.accounts.connectService(user.userId, {
      display_name: 'Host',
      webhook_url: 'http://bridge.example/webhooks/service/x',
      custom_data: null,
    });
    serviceUuid = service.uuid;
    const c = await store.create({
      displayName: 'Host',
      customData: null,
      returnUrl: null,
      auphonicUser: { userId: user.userId, username: 'podcaster' },
    });
    await store.update(c.id, { status: 'connected', serviceUuid: service.uuid });
    connectionId = c.id;
  });
  after(async () => {
    redis.disconnect();
    await f.close();
  });

  it('queues the ones that are ours and not stored, and leaves the rest alone', async () => {
    const ours = await f.sim.addProduction({
      webhook: 'https://bridge.example/webhooks/auphonic/secret',
      files: [{ filename: 'missed.mp3', content: bytes(2000, 51) }],
    });
    const notOurs = await f.sim.addProduction({ webhook: null, files: [{ filename: 'other.mp3', content: bytes(2000, 52) }] });
    const running = await f.sim.addProduction({
      status: 4,
      webhook: 'https://bridge.example/webhooks/auphonic/secret',
      files: [{ filename: 'later.mp3', content: bytes(10, 53) }],
    });
    const service = await f.sim.addProduction({
      owner: userId,
      service: serviceUuid,
      files: [{ filename: 'svc.mp3', content: bytes(3000, 54) }],
    });
    const otherService = await f.sim.addProduction({
      owner: userId,
      service: null,
      files: [{ filename: 'private.mp3', content: bytes(10, 55) }],
    });

    await f.startWorker({ RECONCILE_INTERVAL_MS: '1000', ENCRYPTION_KEY: KEY.toString('hex') });
    const stored = (path: string) => readFile(join(f.storageDir, path)).catch(() => null);
    await waitFor(() => stored(`account/${ours.uuid}/missed.mp3`), 'the missed production to be stored');
    await waitFor(() => stored(`connections/${connectionId}/${service.uuid}/svc.mp3`), "the connection's missed production to be stored");
    assert.deepEqual(await stored(`account/${ours.uuid}/missed.mp3`), bytes(2000, 51));

    // Another round: what is stored is not queued again, and what is not ours never is.
    const downloads = f.sim.downloadsStarted(ours.uuid, 'missed.mp3');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(f.sim.downloadsStarted(ours.uuid, 'missed.mp3'), downloads);
    for (const p of [notOurs, running, otherService]) {
      assert.deepEqual(
        (await f.listFiles()).filter((x) => x.includes(p.uuid)),
        [],
        p.uuid,
      );
    }
    assert.match(f.logs.text, /queued by the reconciler/);
  });
});
