import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvReader } from '@auphonic-bridge/runtime';
import { readProductionWebhookUrls } from '../src/index.ts';

const read = (env: Record<string, string>, required: boolean) => {
  const r = new EnvReader(env);
  const settings = readProductionWebhookUrls(r, { required });
  r.done();
  return settings;
};

const CURRENT = 'current-secret-0123456789';
const PREVIOUS = 'previous-secret-0123456789';

describe('our production webhook URLs', () => {
  it('are PUBLIC_URL + /webhooks/auphonic/ + each secret, the current one first', () => {
    assert.deepEqual(read({ PUBLIC_URL: 'https://bridge.example/', WEBHOOK_SECRET: CURRENT, WEBHOOK_SECRET_PREVIOUS: PREVIOUS }, true), {
      publicUrl: 'https://bridge.example',
      urls: [`https://bridge.example/webhooks/auphonic/${CURRENT}`, `https://bridge.example/webhooks/auphonic/${PREVIOUS}`],
    });
  });

  it('are none without PUBLIC_URL when optional, and required settings are named when missing', () => {
    assert.deepEqual(read({ WEBHOOK_SECRET: CURRENT }, false), { publicUrl: null, urls: [] });
    assert.throws(
      () => read({}, true),
      (err: Error) => /PUBLIC_URL: is required/.test(err.message) && /WEBHOOK_SECRET: is required/.test(err.message),
    );
  });

  it('refuses a PUBLIC_URL with a query and a malformed secret, without echoing the secret', () => {
    assert.throws(
      () => read({ PUBLIC_URL: 'https://bridge.example/?a=1', WEBHOOK_SECRET: CURRENT }, true),
      /PUBLIC_URL: must not have a query/,
    );
    assert.throws(
      () => read({ PUBLIC_URL: 'https://bridge.example', WEBHOOK_SECRET: 'has/a/slash/0123456789' }, true),
      (err: Error) => /WEBHOOK_SECRET: may only contain/.test(err.message) && !err.message.includes('has/a/slash'),
    );
  });
});
