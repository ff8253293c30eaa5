// The storage contract: every driver passes the same suite. A new driver is
// one file in src/ and one *.contract.test.ts calling describeStorageContract.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { StorageDriver } from '../src/driver.ts';

export interface ContractSubject {
  driver: StorageDriver;
  close(): Promise<void>;
}

async function readAll(driver: StorageDriver, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of driver.read(key)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function describeStorageContract(name: string, setup: () => Promise<ContractSubject>, opts: { bigSize: number }): void {
  describe(`storage contract: ${name}`, () => {
    let subject: ContractSubject;
    let driver: StorageDriver;
    before(async () => {
      subject = await setup();
      driver = subject.driver;
      await driver.check();
    });
    after(() => subject.close());

    it('makes an upload visible only on commit, with exact bytes, across many chunks', async () => {
      const bytes = randomBytes(opts.bigSize);
      const upload = await driver.createUpload('account/u1/big.mp3');
      for (let at = 0; at < bytes.length; at += 64 * 1024) await upload.write(bytes.subarray(at, at + 64 * 1024));
      assert.equal(upload.bytesWritten, bytes.length);
      assert.equal(await driver.stat('account/u1/big.mp3'), null, 'not visible before commit');
      await upload.commit();
      assert.deepEqual(await driver.stat('account/u1/big.mp3'), { size: bytes.length });
      assert.ok((await readAll(driver, 'account/u1/big.mp3')).equals(bytes));
    });

    it('starts over on restart', async () => {
      const upload = await driver.createUpload('account/u1/restart.mp3');
      await upload.write(Buffer.from('wrong bytes that must go'));
      await upload.restart();
      assert.equal(upload.bytesWritten, 0);
      await upload.write(Buffer.from('right'));
      await upload.commit();
      assert.equal((await readAll(driver, 'account/u1/restart.mp3')).toString(), 'right');
    });

    it('leaves nothing on abort, and abort is safe twice', async () => {
      const upload = await driver.createUpload('account/u1/aborted.mp3');
      await upload.write(randomBytes(1024));
      await upload.abort();
      await upload.abort();
      assert.equal(await driver.stat('account/u1/aborted.mp3'), null);
    });

    it('replaces an object whole and round-trips JSON', async () => {
      await driver.writeJson('account/u1/record.json', { a: 1 });
      await driver.writeJson('account/u1/record.json', { a: 2, ü: 'ß' });
      assert.deepEqual(await driver.readJson('account/u1/record.json'), { a: 2, ü: 'ß' });
      assert.equal(await driver.readJson('account/u1/missing.json'), null);
      assert.equal(await driver.stat('account/u1/missing.mp3'), null);
    });

    it('keeps unicode and spaces in names', async () => {
      const upload = await driver.createUpload('account/u1/Folge 1 – Über.m4a');
      await upload.write(Buffer.from('x'));
      await upload.commit();
      assert.deepEqual(await driver.stat('account/u1/Folge 1 – Über.m4a'), { size: 1 });
    });

    it('removes an object, its neighbours untouched, and takes a missing one calmly', async () => {
      for (const name of ['chapter-1.png', 'chapter-2.png']) {
        const upload = await driver.createUpload(`account/u2/${name}`);
        await upload.write(Buffer.from(name));
        await upload.commit();
      }
      await driver.writeJson('account/u2/chapters.json', { version: '1.2.0', chapters: [] });
      await driver.remove('account/u2/chapter-2.png');
      await driver.remove('account/u2/chapters.json');
      assert.equal(await driver.stat('account/u2/chapter-2.png'), null);
      assert.equal(await driver.readJson('account/u2/chapters.json'), null);
      assert.deepEqual(await driver.stat('account/u2/chapter-1.png'), { size: 'chapter-1.png'.length });
      await driver.remove('account/u2/chapter-2.png');
      await driver.remove('account/nothing-here/cover.jpg');
    });

    it('refuses keys that would leave its root', async () => {
      for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', '']) {
        await assert.rejects(driver.createUpload(key), { code: 'ERR_STORAGE_BAD_KEY' }, key);
        await assert.rejects(driver.remove(key), { code: 'ERR_STORAGE_BAD_KEY' }, key);
      }
    });
  });
}
