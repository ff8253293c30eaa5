import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationFor } from '../src/notify/event.ts';
import type { ProductionRecord } from '../src/record.ts';

const file = (filename: string, md5 = 'e2fc714c4727ee9395f324cd2e7f331f') => ({
  filename,
  format: 'mp3',
  size: 1000,
  md5,
  key: `account/EventsXnXeAiHoB8U4uFJQ/${filename}`,
  kind: 'audio' as const,
  checksumVerified: true,
});

const record = (files: ReturnType<typeof file>[]): ProductionRecord => ({
  bridge: {
    version: 2,
    uuid: 'EventsXnXeAiHoB8U4uFJQ',
    owner: { kind: 'account' },
    customData: null,
    outcome: 'partial',
    final: true,
    fingerprint: 'f'.repeat(64),
    changeTime: '2026-12-07T10:00:00.000Z',
    recordedAt: '2026-12-07T10:05:00.000Z',
    forcedAt: null,
    files,
    outputs: [],
    notRendered: [],
    error: { code: 'ERR_OUTPUTS_FAILED', message: 'b.mp3 failed' },
  },
  production: null,
});

describe("a notification's webhook-id", () => {
  it('is the same for the same record told again, and its body the same bytes', () => {
    const [a, b] = [notificationFor(record([file('a.mp3')])), notificationFor(record([file('a.mp3')]))];
    assert.equal(a.id, b.id);
    assert.equal(a.body, b.body);
  });

  it('differs when a replay stores more of a partial rendering (receivers would drop it as a repeat)', () => {
    const first = notificationFor(record([file('a.mp3')]));
    const more = notificationFor(record([file('a.mp3'), file('b.mp3')]));
    assert.notEqual(first.id, more.id);
    assert.notEqual(notificationFor(record([file('a.mp3', '0'.repeat(32))])).id, first.id, 'or other bytes');
  });
});
