import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Readiness } from '@auphonic-bridge/runtime';
import { createOpsServer, createRegistry } from '../src/index.ts';

describe('createOpsServer', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });
  const start = async (isReady: Readiness, json = {}) => {
    const server = createOpsServer(createRegistry('test'), isReady, json);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return async (path: string, method = 'GET') => {
      const res = await fetch(`${base}${path}`, { method });
      return { status: res.status, body: await res.text() };
    };
  };

  it('serves /livez, /healthz (with the reason when not ready), /metrics and the JSON routes given', async () => {
    let ready: boolean | { ready: boolean; reason: string } = true;
    const get = await start(async () => ready, { '/queue-depth': async () => ({ queues: {} }) });
    assert.deepEqual(await get('/livez'), { status: 200, body: '{"status":"ok"}\n' });
    assert.deepEqual(await get('/healthz'), { status: 200, body: '{"status":"ok"}\n' });
    ready = false;
    assert.deepEqual(await get('/healthz'), { status: 503, body: '{"status":"unavailable"}\n' });
    ready = { ready: false, reason: 'redis unreachable' };
    assert.deepEqual(await get('/healthz'), { status: 503, body: '{"status":"unavailable","reason":"redis unreachable"}\n' });
    assert.match((await get('/metrics')).body, /process_resident_memory_bytes/);
    assert.deepEqual(await get('/queue-depth'), { status: 200, body: '{"queues":{}}\n' });
    assert.equal((await get('/nothing')).status, 404);
    assert.equal((await get('/toString')).status, 404, 'only the routes given');
    assert.equal((await get('/livez', 'POST')).status, 405);
  });

  it('answers 503 when a JSON route fails (its figures come from Redis)', async () => {
    const get = await start(async () => true, {
      '/queue-depth': async () => {
        throw new Error('redis away');
      },
    });
    assert.equal((await get('/queue-depth')).status, 503);
  });
});
