import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../src/logger.ts';

/** A logger writing to memory, and its lines parsed. */
function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).trim().split('\n'));
      done();
    },
  });
  const logger = createLogger({ service: 'test', level: 'info', destination });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger: credentials never reach a log line', () => {
  it('censors values under credential-like keys at the top and one level down, and cookies in headers, and nothing else', () => {
    const { logger, lines, records } = capture();
    const err = Object.assign(new Error('refused'), { token: 'SECRET01', headers: { authorization: 'Bearer SECRET02' } });
    const headers = { authorization: 'Bearer SECRET03', cookie: 'sid=SECRET04', accept: 'audio/*' };
    logger.info(
      {
        authorization: 'Bearer SECRET05',
        token: 'SECRET06',
        apiKey: 'SECRET07',
        secret: 'SECRET08',
        password: 'SECRET09',
        headers,
        req: { headers: { authorization: 'Bearer SECRET10', cookie: 'sid=SECRET11', host: 'bridge.example' }, url: '/x' },
        connection: { token: 'SECRET12', apiKey: 'SECRET13', secret: 'SECRET14', password: 'SECRET15', id: 'c1' },
        oauth: { access_token: 'SECRET17', refreshToken: 'SECRET18', clientSecret: 'SECRET19', expiresIn: 3600 },
        api_key: 'SECRET20',
        credentials: 'SECRET21',
        res: { headers: { 'Set-Cookie': 'sid=SECRET22', 'content-type': 'application/json' } },
        err,
        uuid: 'ShfFXnXeAiHoB8U4uFJQS3',
        count: 3,
      },
      'a line',
    );
    logger.child({ token: 'SECRET16', reqId: 'req-1' }).warn({ status: 3 }, 'a child line');
    const text = lines.join('\n');
    assert.ok(!text.includes('SECRET'), `no secret in ${text}`);

    const [line, childLine] = records() as [Record<string, unknown>, Record<string, unknown>];
    const loggedErr = line.err as Record<string, unknown>;
    for (const key of ['authorization', 'token', 'apiKey', 'secret', 'password']) assert.equal(line[key], '[redacted]');
    assert.deepEqual(line.headers, { authorization: '[redacted]', cookie: '[redacted]', accept: 'audio/*' });
    assert.deepEqual(line.req, { headers: { authorization: '[redacted]', cookie: '[redacted]', host: 'bridge.example' }, url: '/x' });
    assert.deepEqual(line.connection, {
      token: '[redacted]',
      apiKey: '[redacted]',
      secret: '[redacted]',
      password: '[redacted]',
      id: 'c1',
    });
    assert.deepEqual(line.oauth, { access_token: '[redacted]', refreshToken: '[redacted]', clientSecret: '[redacted]', expiresIn: 3600 });
    assert.equal(line.api_key, '[redacted]');
    assert.equal(line.credentials, '[redacted]');
    assert.deepEqual(line.res, { headers: { 'Set-Cookie': '[redacted]', 'content-type': 'application/json' } });
    assert.equal(loggedErr.message, 'refused', 'an error is still an error');
    assert.match(String(loggedErr.stack), /refused/);
    assert.equal(loggedErr.token, '[redacted]');
    assert.deepEqual(loggedErr.headers, { authorization: '[redacted]' });
    assert.equal(line.uuid, 'ShfFXnXeAiHoB8U4uFJQS3');
    assert.equal(line.count, 3);
    assert.equal(line.msg, 'a line');
    assert.equal(childLine.token, '[redacted]');
    assert.equal(childLine.reqId, 'req-1');
    assert.equal(childLine.status, 3);

    // What was logged is left as it was: the caller's objects are not the log's.
    assert.equal(headers.authorization, 'Bearer SECRET03');
    assert.equal(err.token, 'SECRET01');
  });
});
