import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdtemp, open, readdir, rm, truncate, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryDriver } from '../src/directory-driver.ts';

// What only the directory driver does; the shared behaviour is in contract.ts.
describe('DirectoryDriver', () => {
  let root: string;
  let driver: DirectoryDriver;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bridge-dir-'));
    driver = new DirectoryDriver(root);
    await driver.check();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('writes under a temporary name in .incoming and leaves none behind', async () => {
    const upload = await driver.createUpload('account/u1/a.mp3');
    await upload.write(Buffer.from('hello'));
    assert.equal((await readdir(join(root, '.incoming'))).length, 1);
    await upload.commit();
    const aborted = await driver.createUpload('account/u1/b.mp3');
    await aborted.write(Buffer.from('partial'));
    await aborted.abort();
    assert.deepEqual(await readdir(join(root, '.incoming')), []);
    assert.deepEqual(await readdir(join(root, 'account/u1')), ['a.mp3']);
  });

  it('takes over a dead upload of the same id from its checkpoint, bytes given back to hash', async () => {
    const bytes = randomBytes(9 * 1024 * 1024);
    const dead = await driver.createUpload('account/u2/big.wav', { resumeId: 'same-output' });
    for (let at = 0; at < bytes.length; at += 64 * 1024) await dead.write(bytes.subarray(at, at + 64 * 1024));
    await new Promise((r) => setTimeout(r, 100)); // the checkpoint is written behind the writes
    // The worker dies here: no commit, no abort.
    const next = await driver.createUpload('account/u2/big.wav', { resumeId: 'same-output' });
    assert.ok(next.bytesWritten >= 8 * 1024 * 1024, `took over ${next.bytesWritten} bytes`);
    const back: Buffer[] = [];
    for await (const chunk of next.readBack()) back.push(chunk);
    assert.ok(Buffer.concat(back).equals(bytes.subarray(0, next.bytesWritten)));
    await next.write(bytes.subarray(next.bytesWritten));
    await next.commit();
    assert.deepEqual(await driver.stat('account/u2/big.wav'), { size: bytes.length });
    assert.deepEqual(await readdir(join(root, '.incoming')), [], 'the dead one left nothing');
    const other = await driver.createUpload('account/u2/other.wav', { resumeId: 'another-output' });
    assert.equal(other.bytesWritten, 0, 'another id starts at 0');
    await other.abort();
    await dead.abort();
  });

  /** An upload of 9 MiB under `resumeId`, its checkpoint written, left as a worker that died (or lost its lock) leaves it. */
  const deadUpload = async (key: string, resumeId: string) => {
    const bytes = randomBytes(9 * 1024 * 1024);
    const dead = await driver.createUpload(key, { resumeId });
    for (let at = 0; at < bytes.length; at += 64 * 1024) await dead.write(bytes.subarray(at, at + 64 * 1024));
    await new Promise((r) => setTimeout(r, 100)); // the checkpoint is written behind the writes
    const prefix = createHash('sha256').update(resumeId).digest('hex').slice(0, 32);
    const part = (await readdir(join(root, '.incoming'))).find((n) => n.startsWith(prefix) && n.endsWith('.part')) ?? '';
    return { bytes, dead, part: join(root, '.incoming', part) };
  };

  it('takes over no further than the file holds, whatever its checkpoint says (data lost in a crash)', async () => {
    const { bytes, dead, part } = await deadUpload('account/u5/short.wav', 'short-output');
    await truncate(part, 5 * 1024 * 1024);
    const next = await driver.createUpload('account/u5/short.wav', { resumeId: 'short-output' });
    assert.ok(next.bytesWritten <= 5 * 1024 * 1024, `took over ${next.bytesWritten} bytes of a 5 MiB file`);
    const back: Buffer[] = [];
    for await (const chunk of next.readBack()) back.push(chunk);
    assert.ok(Buffer.concat(back).equals(bytes.subarray(0, next.bytesWritten)), 'no zeros given back to hash');
    await next.abort();
    await dead.abort();
  });

  it('lets a worker that lost its lock not cut the file its successor took over', async () => {
    const { bytes, dead } = await deadUpload('account/u6/claimed.wav', 'claimed-output');
    const next = await driver.createUpload('account/u6/claimed.wav', { resumeId: 'claimed-output' });
    await assert.rejects(dead.restart(), /taken over by another worker/);
    await next.write(bytes.subarray(next.bytesWritten));
    await next.commit();
    assert.deepEqual(await driver.stat('account/u6/claimed.wav'), { size: bytes.length });
    await dead.abort();
  });

  it('sweeps what dead workers left, never a live upload', async () => {
    const live = await driver.createUpload('account/u3/live.mp3', { resumeId: 'live' });
    await live.write(Buffer.from('still going'));
    const dead = await driver.createUpload('account/u3/dead.mp3', { resumeId: 'dead' });
    await dead.write(Buffer.from('abandoned'));
    // The dead one's files were last touched an hour ago; the live one's just now.
    const deadPrefix = createHash('sha256').update('dead').digest('hex').slice(0, 32);
    const old = new Date(Date.now() - 3600_000);
    for (const name of await readdir(join(root, '.incoming'))) {
      if (name.startsWith(deadPrefix)) await utimes(join(root, '.incoming', name), old, old);
    }
    assert.equal(await driver.sweep(), 2, 'its temporary file and its checkpoint');
    assert.ok((await readdir(join(root, '.incoming'))).every((n) => !n.startsWith(deadPrefix)));
    await live.write(Buffer.from('!'));
    await live.commit();
    assert.deepEqual(await driver.stat('account/u3/live.mp3'), { size: 12 });
    await dead.abort();
  });

  it('flushes to disk while it writes, and a failed flush fails the upload', async (t) => {
    // FileHandle is not exported: its prototype, from a handle.
    const probe = await open(join(root, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    let syncs = 0;
    let fail = false;
    const datasync = proto.datasync;
    t.mock.method(proto, 'datasync', function (this: FileHandle) {
      syncs += 1;
      return fail ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : datasync.call(this);
    });
    const chunk = randomBytes(1024 * 1024);
    const good = await driver.createUpload('account/u4/long.wav');
    for (let i = 0; i < 65; i++) await good.write(Buffer.from(chunk));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(syncs >= 1, 'a flush started before the commit');
    await good.commit();
    assert.deepEqual(await driver.stat('account/u4/long.wav'), { size: 65 * 1024 * 1024 });

    fail = true;
    const bad = await driver.createUpload('account/u4/bad.wav');
    await assert.rejects(async () => {
      for (let i = 0; i < 70; i++) await bad.write(Buffer.from(chunk));
      await bad.commit();
    }, /storage write failed \(EIO\)/);
    await bad.abort();
    assert.equal(await driver.stat('account/u4/bad.wav'), null, 'nothing visible');
    assert.deepEqual(await readdir(join(root, '.incoming')), []);
  });

  it('says at start when it cannot write, with its own code', async () => {
    await driver.writeJson('a-file', {});
    await assert.rejects(new DirectoryDriver(join(root, 'a-file', 'sub')).check(), {
      code: 'ERR_STORAGE_NOT_WRITABLE',
      message: /cannot write .*ENOTDIR/,
    });
  });
});
