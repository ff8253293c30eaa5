import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter } from '../src/errors.ts';
import { isProductionUuid, isSafeFilename } from '../src/ids.ts';
import { outcomeOf } from '../src/statuses.ts';

describe('ids', () => {
  it('accepts letters and digits of any sensible length, and nothing that could be a path or a key trick', () => {
    for (const ok of ['ShfFXnXeAiHoB8U4uFJQS3', 'ShfFXnXeAiHoB8U4uFJQS', 'ShfFXnXeAiHoB8U4uFJQS3x', 'a', 'x'.repeat(64)]) {
      assert.ok(isProductionUuid(ok), ok);
    }
    for (const bad of ['', 'x'.repeat(65), '../ShfFXnXeAiHoB8U4uFJ', 'ShfFXnXeAiHoB8U4uFJQ-3', 'a:b', 'a b', 'ü', 42, null]) {
      assert.ok(!isProductionUuid(bad), String(bad));
    }
  });

  it('accepts plain filenames, unicode included, and refuses path tricks', () => {
    for (const ok of ['episode.mp3', 'smoke--RAW.mp4', 'Folge 12 – Über.m4a', 'a']) assert.ok(isSafeFilename(ok), ok);
    for (const bad of [
      '',
      '.',
      '..',
      '../x.mp3',
      'a/b.mp3',
      'a\\b.mp3',
      '.hidden',
      'x\u0000.mp3',
      'x\n.mp3',
      'trailing.',
      'x'.repeat(256),
      null,
    ]) {
      assert.ok(!isSafeFilename(bad), JSON.stringify(bad));
    }
  });
});

describe('statuses', () => {
  it('treats Done and Error as final and every other code, unknown ones too, as running', () => {
    assert.equal(outcomeOf(3), 'done');
    assert.equal(outcomeOf(2), 'error');
    for (const code of [0, 1, 4, 9, 14, 99]) assert.equal(outcomeOf(code), 'running');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});
