import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownloadMismatchError } from '@auphonic-bridge/auphonic';
import { outputFailure } from '../src/fate.ts';
import type { OutputRecord } from '../src/record.ts';

const failedBefore = (received: { size: number; md5: string | null }): OutputRecord => ({
  filename: 'a.mp3',
  format: 'mp3',
  kind: 'audio',
  fate: 'failed',
  code: 'ERR_SIZE_MISMATCH',
  reason: 'earlier',
  received,
});

describe("an output's fate after a size or checksum mismatch", () => {
  it('is refused when the same bytes, hashed whole, failed the same check twice', () => {
    const md5 = '0123456789abcdef0123456789abcdef';
    const err = new DownloadMismatchError('ERR_SIZE_MISMATCH', '1000 bytes, not the 10 Auphonic announced', { size: 1000, md5 });
    const fate = outputFailure(err, failedBefore({ size: 1000, md5 }));
    assert.equal(fate.fate, 'refused');
    assert.match(fate.reason ?? '', /twice for the very same bytes/);
  });

  it('is tried again when neither attempt could hash the bytes whole (an overrun stops early): not the same bytes for all we know', () => {
    const err = new DownloadMismatchError('ERR_SIZE_MISMATCH', 'more bytes than the 10 Auphonic announced', { size: 1000, md5: null });
    const fate = outputFailure(err, failedBefore({ size: 1000, md5: null }));
    assert.deepEqual([fate.fate, fate.code], ['failed', 'ERR_SIZE_MISMATCH']);
  });
});
