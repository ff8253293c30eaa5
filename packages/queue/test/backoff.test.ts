import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../src/backoff.ts';

const settings = { baseMs: 1000, maxMs: 60_000 };

describe('backoffDelay', () => {
  it('grows exponentially, jittered between half and all of the ceiling', () => {
    for (const [attempt, ceiling] of [
      [1, 1000],
      [2, 2000],
      [4, 8000],
    ] as const) {
      assert.equal(
        backoffDelay(attempt, undefined, settings, () => 0),
        ceiling / 2,
      );
      assert.equal(
        backoffDelay(attempt, undefined, settings, () => 1),
        ceiling,
      );
    }
  });

  it('never exceeds the maximum', () => {
    assert.equal(
      backoffDelay(30, undefined, settings, () => 1),
      60_000,
    );
  });

  it("waits at least a server's Retry-After, past the backoff's maximum but at most an hour", () => {
    assert.equal(
      backoffDelay(1, { retryAfterMs: 30_000 }, settings, () => 0),
      30_000,
    );
    assert.equal(
      backoffDelay(1, { retryAfterMs: 10 * 60_000 }, settings, () => 0),
      10 * 60_000,
    );
    assert.equal(
      backoffDelay(1, { retryAfterMs: 5 * 3_600_000 }, settings, () => 0),
      3_600_000,
    );
    assert.equal(
      backoffDelay(4, { retryAfterMs: 100 }, settings, () => 1),
      8000,
    );
  });
});
