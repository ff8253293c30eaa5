import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuphonicClient } from '../src/client.ts';

describe('openDownload', () => {
  let server: Server;
  let base: URL;
  before(async () => {
    // Headers, a little of the body, then the connection is reset while the caller is busy elsewhere.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.resetAndDestroy(), 30);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('keeps a reset that comes before the body is read for its reader, instead of crashing the process', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const client = new AuphonicClient({ baseUrl: base, token: 'token-0123456789' });
      const res = await client.openDownload(new URL('/file.mp3', base));
      assert.equal(res.statusCode, 200);
      // e.g. an S3 upload restarting before the first read
      await sleep(300);
      await assert.rejects(async () => {
        for await (const _chunk of res.body) {
          // reading what arrived, then the reset
        }
      });
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
