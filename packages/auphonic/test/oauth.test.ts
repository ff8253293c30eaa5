import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AuphonicError, exchangeCode } from '../src/index.ts';

const SECRET = 'the-oauth-client-secret';

const listen = async (handler: (req: IncomingMessage, body: string) => [number, Record<string, string>, string]): Promise<Server> => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const [status, headers, text] = handler(req, body);
      res.writeHead(status, headers).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};
const origin = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('exchangeCode', () => {
  const elsewhere: string[] = [];
  let other: Server;
  let auphonic: Server;
  let answer: (req: IncomingMessage) => [number, Record<string, string>, string];
  before(async () => {
    other = await listen((req, body) => {
      elsewhere.push(`${req.method} ${req.url} ${body}`);
      return [200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: 'stolen' })];
    });
    auphonic = await listen((req) => answer(req));
  });
  after(() => {
    other.close();
    auphonic.close();
  });
  const app = () => ({
    baseUrl: new URL(origin(auphonic)),
    clientId: 'id',
    clientSecret: SECRET,
    redirectUri: 'https://bridge.example/oauth/callback',
  });

  for (const status of [301, 302, 307, 308]) {
    it(`does not follow a ${status} to another origin: the client secret is sent only to Auphonic`, async () => {
      answer = () => [status, { location: `${origin(other)}/oauth2/token/` }, ''];
      await assert.rejects(
        exchangeCode(app(), 'code-1'),
        (err: Error) =>
          err instanceof AuphonicError &&
          err.code === 'ERR_AUPHONIC_REJECTED' &&
          err.retryable === false &&
          new RegExp(`redirect \\(HTTP ${status}\\)`).test(err.message) &&
          !err.message.includes(SECRET),
      );
      assert.deepEqual(elsewhere, []);
    });
  }

  it('still exchanges a code answered directly', async () => {
    answer = () => [200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: 'tok', user_name: 'u' })];
    assert.deepEqual(await exchangeCode(app(), 'code-2'), { accessToken: 'tok' });
  });
});
