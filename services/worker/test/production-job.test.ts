import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProductionJobData, ProductionJobResult } from '@auphonic-bridge/queue';
import { createLogger } from '@auphonic-bridge/runtime';
import { DirectoryDriver } from '@auphonic-bridge/storage';
import { type Job, UnrecoverableError } from 'bullmq';
import { EventNotQueuedError, IngestError } from '../src/errors.ts';
import type { IngestDeps } from '../src/ingest-production.ts';
import { createProductionProcessor } from '../src/production-job.ts';
import { ProgressWatch } from '../src/progress-watch.ts';

describe('the production processor, when things fail around the production', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'production-job-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('whose requeue fails (Redis timing out) is retried, not recorded or given up as the production failing', async () => {
    const recorded: unknown[] = [];
    const deps = { storage: new DirectoryDriver(dir), onRecorded: async (r: unknown) => void recorded.push(r) } as unknown as IngestDeps;
    const processor = createProductionProcessor(deps, createLogger({ service: 'test', level: 'silent' }), {
      retryForMs: 60_000,
      progress: new ProgressWatch(),
      onRecorded: (outcome) => recorded.push(outcome),
      // Stands in for Redis failing the add: a fault, injected where the queue would meet it.
      requeueIfNotHeld: async () => {
        throw new Error('Command timed out');
      },
    });
    // As the dashboard's retry leaves it: created long ago (its RETRY_FOR spent).
    const job = {
      id: '7',
      timestamp: Date.now() - 3_600_000,
      attemptsMade: 3,
      data: { uuid: 'RetriedXnXeAiHoB8U4uFJQ', owner: { kind: 'account' }, reportedStatus: 3, receivedAt: new Date().toISOString() },
    } as unknown as Job<ProductionJobData, ProductionJobResult>;
    const err = await processor(job, 'token').then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error && !(err instanceof UnrecoverableError), `retried by BullMQ: ${String(err)}`);
    assert.match(err.message, /could not queue the production anew: Command timed out/);
    assert.deepEqual(recorded, [], 'nothing recorded, announced or counted');
    assert.deepEqual(await readdir(dir), [], 'no record written');
  });

  it('that gives up with its record written but its event not queued, counts what it recorded', async () => {
    const counted: string[] = [];
    const deps = {
      storage: new DirectoryDriver(dir),
      credentials: async () => {
        throw new IngestError('ERR_NEEDS_REAUTH', 'the connection needs authorising again', { retryable: false });
      },
      onRecorded: async () => {
        throw new Error("READONLY You can't write against a read only replica.");
      },
    } as unknown as IngestDeps;
    const processor = createProductionProcessor(deps, createLogger({ service: 'test', level: 'silent' }), {
      retryForMs: 60_000,
      progress: new ProgressWatch(),
      onRecorded: (outcome) => counted.push(outcome),
      requeueIfNotHeld: async () => null,
    });
    const uuid = 'GivesUpXnXeAiHoB8U4uFJQ';
    const job = {
      id: '8',
      timestamp: Date.now(),
      attemptsMade: 0,
      data: { uuid, owner: { kind: 'account' }, reportedStatus: 3, receivedAt: new Date().toISOString() },
    } as unknown as Job<ProductionJobData, ProductionJobResult>;
    // Retried, not failed for good: the next attempt finds the record and queues its event again.
    await assert.rejects(processor(job, 'token'), (err) => err instanceof EventNotQueuedError && !(err instanceof UnrecoverableError));
    assert.deepEqual(counted, ['error']);
    assert.deepEqual(await readdir(join(dir, 'account', uuid)), ['auphonic-production.json']);
  });

  it("that gives up leaves what repeats left pending to the production's next run (a retry by hand of a forced replay stays forced)", async () => {
    let settled = 0;
    const deps = {
      storage: new DirectoryDriver(dir),
      credentials: async () => {
        throw new IngestError('ERR_NEEDS_REAUTH', 'the connection needs authorising again', { retryable: false });
      },
    } as unknown as IngestDeps;
    const data = { uuid: 'PendingXnXeAiHoB8U4uFJQ', owner: { kind: 'account' }, reportedStatus: 3, receivedAt: new Date().toISOString() };
    const processor = createProductionProcessor(deps, createLogger({ service: 'test', level: 'silent' }), {
      retryForMs: 60_000,
      progress: new ProgressWatch(),
      requeueIfNotHeld: async () => null,
      pending: async () => ({
        data: { ...(data as ProductionJobData), force: true },
        settle: async () => {
          settled += 1;
        },
      }),
    });
    const job = { id: '9', timestamp: Date.now(), attemptsMade: 0, data } as unknown as Job<ProductionJobData, ProductionJobResult>;
    await assert.rejects(processor(job, 'token'), UnrecoverableError);
    assert.equal(settled, 0);
  });
});
