// A replay with force (pnpm bridge replay --force, POST /api/productions/{uuid}/replay): the files
// are fetched and verified again even though the record says nothing changed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addProductionJob, type Owner } from '@auphonic-bridge/queue';
import { waitFor } from '@auphonic-bridge/testing';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';

describe('worker: a forced replay', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
    await f.startWorker({ RETRY_BASE_DELAY_MS: '200', RETRY_MAX_DELAY_MS: '400' });
  });
  after(() => f.close());

  const account: Owner = { kind: 'account' };
  const record = async (uuid: string) =>
    JSON.parse((await readFile(join(f.storageDir, 'account', uuid, 'auphonic-production.json'))).toString('utf8'));
  const replay = (uuid: string, force: boolean, owner: Owner = account) =>
    addProductionJob(f.queue, { uuid, owner, reportedStatus: null, force });

  it('downloads and verifies every file again although the production is unchanged; without force it downloads nothing', async () => {
    const mp3 = bytes(40_000, 71);
    const p = await f.sim.addProduction({
      files: [
        { filename: 'ep.mp3', content: mp3 },
        { filename: 'ep.m4a', content: bytes(20_000, 72) },
      ],
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    const first = await record(p.uuid);

    const plain = await f.settled(await replay(p.uuid, false));
    assert.equal(plain.result?.outcome, 'unchanged');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'ep.mp3'), 1, 'a replay without force trusts the record');

    const forced = await f.settled(await replay(p.uuid, true));
    assert.equal(forced.state, 'completed', forced.reason);
    assert.equal(forced.result?.outcome, 'complete');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'ep.mp3'), 2, 'fetched again, not kept from storage');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'ep.m4a'), 2);
    assert.deepEqual(await readFile(join(f.storageDir, 'account', p.uuid, 'ep.mp3')), mp3);
    const again = await record(p.uuid);
    assert.ok(again.bridge.recordedAt > first.bridge.recordedAt, 'recorded anew');
    assert.deepEqual(
      again.bridge.files.map((x: { filename: string; checksumVerified: boolean }) => [x.filename, x.checksumVerified]),
      [
        ['ep.mp3', true],
        ['ep.m4a', true],
      ],
    );
  });

  it('retried, keeps what the replay itself stored and fetches only what failed', async () => {
    const p = await f.sim.addProduction({
      files: [
        { filename: 'good.mp3', content: bytes(30_000, 73) },
        { filename: 'flaky.m4a', content: bytes(30_000, 74) },
      ],
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    f.sim.inject({ target: 'storage', kind: 'corrupt', times: 1, uuid: p.uuid, filename: 'flaky.m4a' });
    const end = await f.settled(await replay(p.uuid, true));
    assert.equal(end.result?.outcome, 'complete', end.reason);
    assert.equal(f.sim.downloadsStarted(p.uuid, 'good.mp3'), 2, 'once by the webhook, once by the replay, not again by its retry');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'flaky.m4a'), 3);
  });

  it('asked for during a plain retry that keeps a file from before it, fetches that file again after', async () => {
    const p = await f.sim.addProduction({
      files: [
        { filename: 'kept.mp3', content: bytes(30_000, 77) },
        { filename: 'slow.m4a', content: bytes(60_000, 78) },
      ],
    });
    // The first attempt stores kept.mp3 and fails slow.m4a; the second keeps kept.mp3 and takes two seconds over slow.m4a.
    f.sim.inject({ target: 'storage', kind: 'corrupt', times: 1, uuid: p.uuid, filename: 'slow.m4a' });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 30_000, times: 2, uuid: p.uuid, filename: 'slow.m4a' });
    const first = await f.enqueue(p.uuid);
    await waitFor(() => f.detailCalls(p.uuid) >= 2, 'the second attempt', 20_000);
    await replay(p.uuid, true);
    assert.equal((await f.settled(first)).result?.outcome, 'complete');
    const runs = async () => (await f.queue.getJobs(['completed', 'failed'])).filter((j) => j.data.uuid === p.uuid);
    await waitFor(async () => (await runs()).length === 2, 'the forced run after it', 20_000);
    const forced = (await runs()).find((j) => j.id !== first.id);
    assert.equal(forced?.returnvalue?.outcome, 'complete', forced?.failedReason);
    // The plain retry recorded after the replay was asked, but kept.mp3 came from before it.
    assert.equal(f.sim.downloadsStarted(p.uuid, 'kept.mp3'), 2, 'fetched again by the forced run');
    assert.equal((await record(p.uuid)).bridge.forcedAt, forced?.data.receivedAt);
  });

  it("keeps the record's custom_data: a replay carries none", async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'ep.mp3', content: bytes(5_000, 75) }] });
    const webhook = await addProductionJob(f.queue, { uuid: p.uuid, owner: account, reportedStatus: 3, customData: { show: 'abc' } });
    assert.equal((await f.settled(webhook)).result?.outcome, 'complete');
    assert.equal((await f.settled(await replay(p.uuid, true))).result?.outcome, 'complete');
    assert.deepEqual((await record(p.uuid)).bridge.customData, { show: 'abc' });
  });

  it('asked for while the job runs, with a newer custom_data, survives a plain webhook that comes after both', async () => {
    const p = await f.sim.addProduction({ files: [{ filename: 'ep.mp3', content: bytes(200_000, 76) }] });
    f.sim.inject({ target: 'storage', kind: 'slow', bytesPerSecond: 100_000, times: 1, uuid: p.uuid });
    const webhook = (customData?: unknown) => addProductionJob(f.queue, { uuid: p.uuid, owner: account, reportedStatus: 3, customData });
    const first = await webhook({ show: 'v1' });
    // Past the start of its run (which reads what is pending): the details come after that.
    await waitFor(() => f.detailCalls(p.uuid) >= 1, 'the job to run');
    await replay(p.uuid, true);
    await webhook({ show: 'v2' });
    await webhook(); // BullMQ keeps this one's data for the run after: no force, no custom_data
    const runs = async () => (await f.queue.getJobs(['completed', 'failed'])).filter((j) => j.data.uuid === p.uuid);
    await waitFor(async () => (await runs()).length === 2, 'the run after the first', 20_000);
    const after = (await runs()).find((j) => j.id !== first.id);
    assert.equal(await after?.getState(), 'completed', after?.failedReason);
    // Forced: the first run was not, so what it stored is fetched again; and recorded with the newer custom_data.
    assert.equal(after?.returnvalue?.outcome, 'complete');
    assert.deepEqual((await record(p.uuid)).bridge.customData, { show: 'v2' });
    assert.equal(f.sim.downloadsStarted(p.uuid, 'ep.mp3'), 2);
  });
});
