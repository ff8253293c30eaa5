import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
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

  it('names its setting when it cannot write', async () => {
    await driver.writeJson('a-file', {});
    await assert.rejects(
      new DirectoryDriver(join(root, 'a-file', 'sub'), { setting: 'STORAGE_URL' }).check(),
      /STORAGE_URL: cannot write .*ENOTDIR/,
    );
  });
});
