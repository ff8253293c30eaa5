import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProductionJobData } from '@auphonic-bridge/queue';
import { DirectoryDriver } from '@auphonic-bridge/storage';
import { EventNotQueuedError } from '../src/errors.ts';
import { recordFailure } from '../src/ingest-production.ts';
import type { ProductionRecord } from '../src/record.ts';

const failure = Object.assign(new Error('Auphonic answered HTTP 503'), { code: 'ERR_AUPHONIC_UNAVAILABLE' });

describe('recordFailure: giving up on a production', () => {
  let dir: string;
  let storage: DirectoryDriver;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'record-failure-'));
    storage = new DirectoryDriver(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  // A fresh production uuid (22 of [A-Za-z0-9]) for each case.
  const job = (customData?: unknown): ProductionJobData => ({
    uuid: `Fail${String(n++).padStart(18, '0')}`,
    owner: { kind: 'account' },
    reportedStatus: 3,
    receivedAt: new Date().toISOString(),
    ...(customData === undefined ? {} : { customData }),
  });
  const key = (data: ProductionJobData) => `account/${data.uuid}/auphonic-production.json`;
  const told = () => {
    const records: ProductionRecord[] = [];
    return { records, onRecorded: async (r: ProductionRecord) => void records.push(r) };
  };
  const existing = (data: ProductionJobData, bridge: Partial<ProductionRecord['bridge']>) =>
    storage.writeJson(key(data), {
      bridge: {
        version: 2,
        uuid: data.uuid,
        owner: data.owner,
        customData: { episode: 7 },
        fingerprint: 'fp-1',
        changeTime: '2026-12-01T10:00:00.000Z',
        recordedAt: '2026-12-01T10:05:00.000Z',
        files: [],
        outputs: [],
        notRendered: [],
        error: null,
        ...bridge,
      },
      production: { uuid: data.uuid, status: 3, change_time: '2026-12-01T10:00:00.000Z' },
    });
  const read = async (data: ProductionJobData) => (await storage.readJson(key(data))) as ProductionRecord;

  it('with no record yet: an error record of no files, and the host is told', async () => {
    const data = job();
    const t = told();
    assert.equal(await recordFailure(storage, data, failure, t.onRecorded), 'error', 'what it recorded (the metric counts it)');
    const r = await read(data);
    assert.deepEqual(
      [r.bridge.outcome, r.bridge.final, r.bridge.error?.code, r.bridge.files.length],
      ['error', true, 'ERR_AUPHONIC_UNAVAILABLE', 0],
    );
    assert.equal(t.records.length, 1);
  });

  it('over a record not final: made final, its files, failed outputs, rendering and custom data kept, the error beside', async () => {
    const data = job();
    const stored = {
      filename: 'a.mp3',
      format: 'mp3',
      kind: 'audio',
      fate: 'stored',
      key: `account/${data.uuid}/a.mp3`,
      size: 3,
      md5: 'x',
    };
    const failed = { filename: 'b.mp3', format: 'mp3', kind: 'audio', fate: 'failed', code: 'ERR_DOWNLOAD', reason: 'HTTP 503' };
    await existing(data, { outcome: 'partial', final: false, outputs: [stored, failed] as ProductionRecord['bridge']['outputs'] });
    const t = told();
    assert.equal(await recordFailure(storage, data, failure, t.onRecorded), 'partial');
    const r = await read(data);
    assert.deepEqual([r.bridge.outcome, r.bridge.final, r.bridge.error?.code], ['partial', true, 'ERR_AUPHONIC_UNAVAILABLE']);
    assert.deepEqual(
      r.bridge.outputs.map((o) => [o.filename, o.fate]),
      [
        ['a.mp3', 'stored'],
        ['b.mp3', 'failed'],
      ],
    );
    assert.deepEqual(
      r.bridge.files.map((f) => f.key),
      [stored.key],
    );
    assert.deepEqual(
      [r.bridge.fingerprint, r.bridge.changeTime, r.bridge.customData],
      ['fp-1', '2026-12-01T10:00:00.000Z', { episode: 7 }],
    );
    assert.equal(t.records.length, 1);
    assert.equal(t.records[0]?.bridge.outcome, 'partial');
  });

  it('over a final error record: the same record told again (its event may not have been queued), not rewritten', async () => {
    const data = job();
    await existing(data, { outcome: 'error', final: true, fingerprint: null, error: { code: 'ERR_FIRST', message: 'first' } });
    const before = await read(data);
    const t = told();
    assert.equal(await recordFailure(storage, data, failure, t.onRecorded), null, 'nothing new recorded: not counted again');
    assert.deepEqual(await read(data), before);
    assert.deepEqual(
      t.records.map((r) => r.bridge.error?.code),
      ['ERR_FIRST'],
    );
  });

  it('whose event cannot be queued (Redis failing over): the record stays written, and the error says what it recorded', async () => {
    const data = job();
    const refused = async () => {
      throw new Error("READONLY You can't write against a read only replica.");
    };
    const err = await recordFailure(storage, data, failure, refused).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof EventNotQueuedError, String(err));
    assert.equal(err.outcome, 'error', 'what to count: a record was written');
    assert.equal((await read(data)).bridge.error?.code, 'ERR_AUPHONIC_UNAVAILABLE');
    // Over a final record, told again: nothing new to count.
    const again = await recordFailure(storage, data, failure, refused).catch((e: unknown) => e);
    assert.ok(again instanceof EventNotQueuedError && again.outcome === null);
  });

  it('leaves a record it cannot read as it is (storage failing), rather than taking it for none', async () => {
    const data = job();
    await existing(data, { outcome: 'complete', final: true });
    const before = await read(data);
    class FailingReads extends DirectoryDriver {
      override async readJson(): Promise<unknown> {
        throw Object.assign(new Error('EIO: i/o error'), { code: 'ERR_STORAGE_UNAVAILABLE' });
      }
    }
    const t = told();
    await assert.rejects(recordFailure(new FailingReads(dir), data, failure, t.onRecorded), /EIO/);
    assert.deepEqual(await read(data), before);
    assert.equal(t.records.length, 0);
  });

  it('over a final record of files: left alone, its event queued again (this attempt may have failed queueing it)', async () => {
    const data = job();
    await existing(data, { outcome: 'complete', final: true });
    const before = await read(data);
    const t = told();
    assert.equal(await recordFailure(storage, data, failure, t.onRecorded), null, 'not counted as an error');
    assert.deepEqual(await read(data), before);
    assert.deepEqual(
      t.records.map((r) => [r.bridge.outcome, r.bridge.fingerprint]),
      [['complete', 'fp-1']],
    );
  });
});
