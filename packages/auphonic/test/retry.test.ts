import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuphonicError, errorForStatus } from '../src/errors.ts';
import { quickDelay, withQuickRetries } from '../src/retry.ts';

const policy = { retries: 3, baseMs: 1, maxMs: 4, retryAfterCapMs: 50 };
const unavailable = (retryAfterMs?: number) =>
  new AuphonicError('ERR_AUPHONIC_UNAVAILABLE', 'HTTP 503', { retryable: true, statusCode: 503, retryAfterMs });

describe('withQuickRetries', () => {
  it('rides out a few retryable failures', async () => {
    let calls = 0;
    const value = await withQuickRetries(async () => {
      calls += 1;
      if (calls < 3) throw unavailable();
      return 'ok';
    }, policy);
    assert.deepEqual([value, calls], ['ok', 3]);
  });

  it('gives up after the retries, and at once on what no retry can change', async () => {
    let calls = 0;
    await assert.rejects(
      withQuickRetries(async () => {
        calls += 1;
        throw unavailable();
      }, policy),
      { code: 'ERR_AUPHONIC_UNAVAILABLE' },
    );
    assert.equal(calls, 4);
    calls = 0;
    await assert.rejects(
      withQuickRetries(async () => {
        calls += 1;
        throw errorForStatus(404, 'x', { from: 'api' });
      }, policy),
      { code: 'ERR_AUPHONIC_NOT_FOUND' },
    );
    assert.equal(calls, 1);
  });

  it('waits out a short Retry-After, and leaves a long one to the job backoff', () => {
    assert.equal(
      quickDelay(0, policy, unavailable(30), () => 0),
      30,
    );
    assert.equal(
      quickDelay(0, policy, unavailable(51), () => 0),
      null,
    );
    assert.ok((quickDelay(5, policy, unavailable(), () => 0.999) ?? 99) <= policy.maxMs);
  });
});

describe('errorForStatus: who answered decides', () => {
  it('takes only the API refusing our token for a reason to authorise again', () => {
    assert.equal(errorForStatus(401, 'x', { from: 'api' })?.code, 'ERR_AUPHONIC_UNAUTHORIZED');
    assert.equal(errorForStatus(401, 'x', { from: 'download' })?.code, 'ERR_AUPHONIC_UNAUTHORIZED');
    for (const [status, from] of [
      [403, 'download'],
      [401, 'storage'],
      [403, 'storage'],
    ] as const) {
      const err = errorForStatus(status, 'x', { from });
      assert.deepEqual([err?.code, err?.retryable], ['ERR_DOWNLOAD_REFUSED', true], `${status} from ${from}`);
    }
    assert.deepEqual(
      [errorForStatus(403, 'x', { from: 'api' })?.code, errorForStatus(403, 'x', { from: 'api' })?.retryable],
      ['ERR_AUPHONIC_FORBIDDEN', false],
    );
  });
});
