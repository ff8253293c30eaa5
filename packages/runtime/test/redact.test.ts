import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../src/env.ts';
import { redactCredentials } from '../src/redact.ts';

describe('redactCredentials', () => {
  it('removes our webhook secret, tokens in URLs and secret-looking fields, and keeps the rest', () => {
    const input = {
      webhook: 'https://bridge.example/webhooks/auphonic/s3cr3t-value-0123456789',
      image: 'https://auphonic.com/api/download/image.png?bearer_token=tok-123&size=2',
      presigned: 'https://r2.example/x.mp3?X-Amz-Date=1&X-Amz-Signature=abcdef',
      nested: [{ api_key: 'k-1', title: 'Episode 1 – Über', access_token: '' }],
      service_webhook: 'https://bridge.example/webhooks/service/AbCdEf0123456789abcdef',
      other_receiver: 'another hook: https://user:hunter2@cms.example/hook?x=1, and ftp://u:p@h/x',
      length: 12.5,
      none: null,
    };
    assert.deepEqual(redactCredentials(input), {
      webhook: 'https://bridge.example/webhooks/auphonic/[redacted]',
      image: 'https://auphonic.com/api/download/image.png?bearer_token=[redacted]&size=2',
      presigned: 'https://r2.example/x.mp3?X-Amz-Date=1&X-Amz-Signature=[redacted]',
      nested: [{ api_key: '[redacted]', title: 'Episode 1 – Über', access_token: '' }],
      service_webhook: 'https://bridge.example/webhooks/service/AbCdEf0123456789abcdef',
      other_receiver: 'another hook: https://user:[redacted]@cms.example/hook?x=1, and ftp://u:[redacted]@h/x',
      length: 12.5,
      none: null,
    });
    assert.equal(input.webhook.includes('s3cr3t'), true, 'the input is left as it was');
  });
});

describe('parseDuration', () => {
  it('reads a number with its unit, and nothing else', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('48h'), 172_800_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    for (const bad of ['', '48', 'h', '2 weeks', '-1s', '1y']) assert.equal(parseDuration(bad), null, bad);
  });
});
