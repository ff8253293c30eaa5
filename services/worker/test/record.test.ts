import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuphonicClient, type Production } from '@auphonic-bridge/auphonic';
import { planOutputs } from '../src/outputs.ts';
import { asRecord, fingerprint } from '../src/record.ts';

const production = (extra: Partial<Production> = {}): Production => ({
  uuid: 'X2bUTQ8z888YaKukkU6vfJ',
  status: 3,
  status_string: 'Done',
  change_time: '2026-01-02T03:04:05.000Z',
  output_files: [{ format: 'mp3', filename: 'ep.mp3', download_url: '/api/download/audio-result/X2bUTQ8z888YaKukkU6vfJ/ep.mp3', size: 10 }],
  ...extra,
});

const chapter = {
  title: 'Second Chapter',
  url: '',
  image: null,
  start: '00:02:18',
  start_sec: 138,
  start_output: '00:02:33.372',
  start_output_sec: 153.372585,
};

describe('production record', () => {
  it('fingerprints a production without chapters or cover as before they counted, so its record stays unchanged', () => {
    const p = production({ chapters: [], image: null });
    const before = createHash('sha256')
      .update(JSON.stringify([3, p.change_time, [['ep.mp3', 10, null, p.output_files[0]?.download_url]]]))
      .digest('hex');
    assert.equal(fingerprint(p), before);
  });

  it('fingerprints another rendering when only the chapters or the cover changed', () => {
    const base = fingerprint(production({ chapters: [chapter] }));
    // A changed cut moves start_output_sec and nothing else: the same change_time, the same files.
    assert.notEqual(fingerprint(production({ chapters: [{ ...chapter, start_output_sec: 120.5, start_output: '00:02:00.500' }] })), base);
    assert.notEqual(fingerprint(production({ chapters: [{ ...chapter, title: 'Renamed' }] })), base);
    assert.notEqual(fingerprint(production({ chapters: [{ ...chapter, image: '/api/download/audio-upload/X/c.png' }] })), base);
    assert.notEqual(fingerprint(production({ chapters: [chapter], image: '/api/download/audio-upload/X/cover.png' })), base);
    // A field Auphonic adds to chapters some day is not a new rendering.
    assert.equal(fingerprint(production({ chapters: [{ ...chapter, somethingNew: 1 }] })), base);
  });

  it('reads records written before outputs had a kind: all of them audio', () => {
    const old = asRecord({
      bridge: {
        version: 2,
        uuid: 'X2bUTQ8z888YaKukkU6vfJ',
        outputs: [{ filename: 'ep.mp3', format: 'mp3', fate: 'stored', key: 'account/X/ep.mp3', size: 10, md5: 'a'.repeat(32) }],
        files: [{ filename: 'ep.mp3', format: 'mp3', key: 'account/X/ep.mp3', size: 10, md5: 'a'.repeat(32), checksumVerified: true }],
      },
    });
    assert.equal(old?.outputs[0]?.kind, 'audio');
    assert.equal(old?.files[0]?.kind, 'audio');
    const v1 = asRecord({
      bridge: { uuid: 'X2bUTQ8z888YaKukkU6vfJ', files: [{ filename: 'a.mp3', format: 'mp3', key: 'k', size: 1, md5: 'b' }] },
    });
    assert.deepEqual(
      v1?.outputs.map((o) => [o.kind, o.fate]),
      [['audio', 'stored']],
    );
  });
});

describe('a malformed output_files entry (null)', () => {
  const withNull = production({
    output_files: [
      { format: 'mp3', filename: 'ep.mp3', download_url: '/api/download/audio-result/X2bUTQ8z888YaKukkU6vfJ/ep.mp3', size: 10 },
      null,
    ],
  });

  it('is refused on its own, saying what it is, while the other outputs are planned', () => {
    const client = new AuphonicClient({ baseUrl: new URL('https://auphonic.com'), token: 'unused' });
    const plan = planOutputs(withNull, { client, prefix: 'account/X2bUTQ8z888YaKukkU6vfJ', verifyChecksums: true });
    assert.equal(plan.length, 2);
    assert.equal('download' in (plan[0] as object) ? (plan[0] as { download: { filename: string } }).download.filename : null, 'ep.mp3');
    assert.deepEqual((plan[1] as { decided: unknown }).decided, {
      filename: null,
      format: 'unknown',
      kind: 'audio',
      fate: 'refused',
      code: 'ERR_AUPHONIC_BAD_RESPONSE',
      reason: "output_files[1] of Auphonic's answer is null, not an output",
    });
  });

  it('is fingerprinted as what it is, not a crash', () => {
    assert.notEqual(fingerprint(withNull), fingerprint(production()));
  });
});

describe('output names that differ only in letter case or Unicode form', () => {
  const plan = (filenames: string[]) =>
    planOutputs(
      production({
        output_files: filenames.map((filename) => ({
          format: 'mp3',
          filename,
          download_url: `/api/download/audio-result/X2bUTQ8z888YaKukkU6vfJ/${encodeURIComponent(filename)}`,
        })),
      }),
      {
        client: new AuphonicClient({ baseUrl: new URL('https://auphonic.com'), token: 'unused' }),
        prefix: 'account/X',
        verifyChecksums: true,
      },
    ).map((p) => ('decided' in p ? `${p.decided.fate} ${p.decided.code}` : 'download'));

  it('are one file on a case-insensitive or normalising storage (macOS, SMB): refused, as two outputs of one name are', () => {
    assert.deepEqual(plan(['Take.mp3', 'take.MP3', 'other.mp3']), ['refused ERR_UNSAFE_OUTPUT', 'refused ERR_UNSAFE_OUTPUT', 'download']);
    assert.deepEqual(plan(['\u00dcber.mp3', 'U\u0308ber.mp3']), ['refused ERR_UNSAFE_OUTPUT', 'refused ERR_UNSAFE_OUTPUT']);
  });

  it("may not take the record's name in another case", () => {
    assert.deepEqual(plan(['Auphonic-Production.JSON', 'ep.mp3']), ['refused ERR_UNSAFE_OUTPUT', 'download']);
  });
});
