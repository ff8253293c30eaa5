import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnService } from '@auphonic-bridge/testing';
import { readConfig } from '../src/config.ts';

describe('ingress config', () => {
  it('accepts a current and a previous webhook secret', () => {
    const c = readConfig({ WEBHOOK_SECRET: 'a'.repeat(16), WEBHOOK_SECRET_PREVIOUS: 'b'.repeat(16) });
    assert.deepEqual(c.webhookSecrets, ['a'.repeat(16), 'b'.repeat(16)]);
    assert.equal(c.port, 3000);
  });

  it('refuses a short secret or one that cannot sit in a URL path, without echoing it', () => {
    assert.throws(() => readConfig({ WEBHOOK_SECRET: 'short' }), /WEBHOOK_SECRET: must be at least 16/);
    assert.throws(
      () => readConfig({ WEBHOOK_SECRET: 'has/slash/0123456789' }),
      (err: Error) => /WEBHOOK_SECRET: may only contain/.test(err.message) && !err.message.includes('has/slash'),
    );
    assert.throws(() => readConfig({ WEBHOOK_SECRET: 'a'.repeat(16), PORT: '70000' }), /PORT: must be <= 65535/);
  });

  it('stops the process at start when WEBHOOK_SECRET is missing', async () => {
    const ingress = spawnService('ingress', {});
    assert.equal(await ingress.exited, 78);
    assert.match(ingress.output(), /WEBHOOK_SECRET: is required/);
  });
});
