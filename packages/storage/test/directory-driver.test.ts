import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryDriver } from '../src/directory-driver.ts';

describe('DirectoryDriver', () => {
  let root: string;
  let driver: DirectoryDriver;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bridge-dir-'));
    driver = new DirectoryDriver(root);
    await driver.check();
  });
  after(() => rm(root, { recursive: true, force: true }));

  const incoming = () => readdir(join(root, '.incoming'));

  it('makes an upload visible only on commit', async () => {
    const upload = await driver.createUpload('account/u1/a.mp3');
    await upload.write(Buffer.from('hello '));
    await upload.write(Buffer.from('world'));
    assert.equal(await driver.stat('account/u1/a.mp3'), null);
    await upload.commit();
    assert.equal((await readFile(join(root, 'account/u1/a.mp3'))).toString(), 'hello world');
    assert.deepEqual(await incoming(), []);
  });

  it('starts over on restart', async () => {
    const upload = await driver.createUpload('account/u1/b.mp3');
    await upload.write(Buffer.from('wrong bytes'));
    await upload.restart();
    await upload.write(Buffer.from('right'));
    await upload.commit();
    assert.equal((await readFile(join(root, 'account/u1/b.mp3'))).toString(), 'right');
  });

  it('leaves nothing on abort', async () => {
    const upload = await driver.createUpload('account/u1/c.mp3');
    await upload.write(Buffer.from('partial'));
    await upload.abort();
    await upload.abort();
    assert.equal(await driver.stat('account/u1/c.mp3'), null);
    assert.deepEqual(await incoming(), []);
  });

  it('replaces an existing object atomically and round-trips JSON', async () => {
    await driver.writeJson('account/u1/r.json', { a: 1 });
    await driver.writeJson('account/u1/r.json', { a: 2 });
    assert.deepEqual(await driver.readJson('account/u1/r.json'), { a: 2 });
    assert.equal(await driver.readJson('account/u1/missing.json'), null);
  });

  it('refuses keys that would leave the root', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', '']) {
      await assert.rejects(driver.createUpload(key), { code: 'ERR_STORAGE_BAD_KEY' }, key);
    }
  });

  it('names its setting when it cannot write', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, async () => {
    const locked = await mkdtemp(join(tmpdir(), 'bridge-ro-'));
    await chmod(locked, 0o500);
    await assert.rejects(new DirectoryDriver(join(locked, 'sub')).check(), /STORAGE_DIR: cannot write/);
  });

  it('names its setting when the directory cannot be created', async () => {
    const file = join(root, 'a-file');
    await driver.writeJson('a-file', {});
    await assert.rejects(new DirectoryDriver(join(file, 'sub')).check(), /STORAGE_DIR: cannot write .*ENOTDIR/);
  });
});
