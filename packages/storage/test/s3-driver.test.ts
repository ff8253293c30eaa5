import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startS3, type TestS3 } from '@auphonic-bridge/testing';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { PartPool } from '../src/part-pool.ts';
import { S3Driver, type S3Settings } from '../src/s3-driver.ts';

// What only the S3 driver does; the shared behaviour is in contract.ts.
describe('S3Driver', () => {
  let s3: TestS3;
  let settings: S3Settings;
  before(async () => {
    s3 = await startS3();
    settings = {
      bucket: s3.bucket,
      prefix: 'p',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      partSize: 5 * 1024 * 1024,
      concurrency: 2,
      timeouts: { connectMs: 5_000, socketMs: 30_000, requestMs: 60_000 },
    };
  });
  after(() => s3.close());

  /** The S3 commands a driver sends, by name. */
  const spy = (driver: S3Driver) => {
    const sent: string[] = [];
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'spy' },
    );
    return sent;
  };

  it('stores the Content-Type it is given, for a small file (PutObject) and a multipart one', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    for (const [key, bytes] of [
      ['account/u/small.mp3', 1024],
      ['account/u/large.mp3', 12 * 1024 * 1024],
    ] as const) {
      const upload = await driver.createUpload(key);
      upload.setContentType?.('audio/mpeg');
      await upload.write(randomBytes(bytes));
      await upload.commit();
      const head = await driver.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${settings.prefix}/${key}` }));
      assert.equal(head.ContentType, 'audio/mpeg', key);
      assert.equal(head.ContentLength, bytes, key);
    }
  });

  it("takes a completion whose answer was lost (NoSuchUpload on the retry) for done once the object's multipart ETag matches its parts", async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    let completes = 0;
    // s3rver's ETag for a multipart object is the MD5 of its bytes; S3's (and MinIO's, R2's) is the MD5 of the
    // parts' MD5s and their count. HeadObject answers here as S3 would, from the parts s3rver acknowledged.
    const parts = new Map<number, string>();
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const input = args.input as { PartNumber?: number };
        if (context.commandName === 'UploadPartCommand') parts.set(input.PartNumber ?? 0, String((out.output as { ETag?: string }).ETag));
        if (context.commandName === 'HeadObjectCommand') {
          const md5s = [...parts.entries()].sort(([a], [b]) => a - b).map(([, etag]) => etag.replace(/"/g, ''));
          const etag = `"${createHash('md5')
            .update(Buffer.from(md5s.join(''), 'hex'))
            .digest('hex')}-${md5s.length}"`;
          Object.assign(out.output as object, { ETag: etag });
        }
        return out;
      },
      { step: 'initialize', name: 's3-multipart-etag' },
    );
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'CompleteMultipartUploadCommand') return next(args);
        completes += 1;
        // As S3 answers the SDK's retry of a completion that went through: the upload is no more.
        await next(args);
        throw Object.assign(new Error('The specified upload does not exist.'), {
          name: 'NoSuchUpload',
          $metadata: { httpStatusCode: 404 },
        });
      },
      { step: 'initialize', name: 'lost-answer' },
    );
    const bytes = randomBytes(12 * 1024 * 1024);
    const upload = await driver.createUpload('account/u/lost-answer.mp3');
    await upload.write(bytes);
    await upload.commit();
    assert.equal(completes, 1);
    const head = await driver.client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: `${settings.prefix}/account/u/lost-answer.mp3` }),
    );
    assert.equal(head.ContentLength, bytes.length);
  });

  it('fails, to be tried again, when its upload was aborted under it (NoSuchUpload and no object)', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'CompleteMultipartUploadCommand') return next(args);
        throw Object.assign(new Error('The specified upload does not exist.'), {
          name: 'NoSuchUpload',
          $metadata: { httpStatusCode: 404 },
        });
      },
      { step: 'initialize', name: 'aborted-under-it' },
    );
    const upload = await driver.createUpload('account/u/aborted.mp3');
    await upload.write(randomBytes(12 * 1024 * 1024));
    await assert.rejects(upload.commit(), (err: { code?: string; retryable?: boolean }) => {
      assert.deepEqual([err.code, err.retryable], ['ERR_STORAGE_UNAVAILABLE', true]);
      return true;
    });
    assert.equal(await driver.stat('account/u/aborted.mp3'), null);
  });

  it('says which multipart upload it could not abort, never failing the abort itself', async () => {
    const told: Array<[string, string, string]> = [];
    const driver = new S3Driver(
      { ...settings, onAbortFailed: (key, err) => told.push([key, err.code, err.message]) },
      { credentials: s3.credentials },
    );
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'AbortMultipartUploadCommand') return next(args);
        throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      },
      { step: 'initialize', name: 'abort-fails' },
    );
    const upload = await driver.createUpload('account/u/unabortable.wav');
    await upload.write(randomBytes(12 * 1024 * 1024));
    await upload.abort();
    assert.deepEqual(told, [[`${settings.prefix}/account/u/unabortable.wav`, 'ERR_STORAGE_UNAVAILABLE', 'S3 InternalError (HTTP 500)']]);
  });

  it('aborts its multipart upload when an upload is interrupted, leaving no object', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    const sent = spy(driver);
    const upload = await driver.createUpload('account/u/cut.wav');
    await upload.write(randomBytes(12 * 1024 * 1024));
    await upload.abort();
    assert.ok(sent.includes('CreateMultipartUploadCommand'));
    assert.ok(sent.includes('UploadPartCommand'));
    assert.ok(sent.includes('AbortMultipartUploadCommand'), sent.join());
    assert.ok(!sent.includes('CompleteMultipartUploadCommand'));
    assert.equal(await driver.stat('account/u/cut.wav'), null);
  });

  it('sends no checksum headers a non-AWS server may refuse, and addresses buckets by path', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    const headers: Array<Record<string, string>> = [];
    driver.client.middlewareStack.add(
      (next) => async (args) => {
        headers.push({ ...(args.request as { headers: Record<string, string> }).headers, path: (args.request as { path: string }).path });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'headers' },
    );
    await driver.writeJson('account/u/r.json', { ok: true });
    assert.ok(headers.length > 0);
    for (const h of headers) {
      assert.ok(!Object.keys(h).some((k) => k.toLowerCase().startsWith('x-amz-checksum-')), JSON.stringify(h));
      assert.ok(h.path?.startsWith(`/${s3.bucket}/`), h.path);
    }
  });

  it('reports bad credentials at start with their own code', async () => {
    const driver = new S3Driver(settings, { credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } });
    await assert.rejects(driver.check(), { code: 'ERR_STORAGE_CREDENTIALS', message: /refused the credentials/ });
  });

  it('reports a missing bucket at start with its own code', async () => {
    const driver = new S3Driver({ ...settings, bucket: 'no-such-bucket' }, { credentials: s3.credentials });
    await assert.rejects(driver.check(), { code: 'ERR_STORAGE_NO_BUCKET', message: /bucket "no-such-bucket" does not exist/ });
  });
});

describe('S3Driver memory: one pool of part buffers for every upload', () => {
  it('uploads three files at once through a pool of two buffers, exact bytes, no more buffers than the pool', async () => {
    const s3 = await startS3();
    try {
      const driver = new S3Driver(
        {
          bucket: s3.bucket,
          prefix: 'pool',
          endpoint: s3.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          partSize: 5 * 1024 * 1024,
          concurrency: 1,
          timeouts: { connectMs: 5_000, socketMs: 30_000, requestMs: 60_000 },
        },
        { credentials: s3.credentials },
      );
      let parts = 0;
      let most = 0;
      driver.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'UploadPartCommand') return next(args);
          most = Math.max(most, ++parts);
          try {
            return await next(args);
          } finally {
            parts -= 1;
          }
        },
        { step: 'initialize', name: 'count-parts' },
      );
      const files = [1, 2, 3].map((i) => randomBytes(11 * 1024 * 1024 + i));
      await Promise.all(
        files.map(async (bytes, i) => {
          const upload = await driver.createUpload(`account/p/file-${i}.wav`);
          for (let at = 0; at < bytes.length; at += 64 * 1024) await upload.write(bytes.subarray(at, at + 64 * 1024));
          await upload.commit();
        }),
      );
      for (const [i, bytes] of files.entries()) {
        const chunks: Buffer[] = [];
        for await (const c of driver.read(`account/p/file-${i}.wav`)) chunks.push(c);
        assert.ok(Buffer.concat(chunks).equals(bytes), `file ${i}`);
      }
      assert.ok(
        most >= 1 && most <= 2,
        `${most} parts at once: never more than the pool's buffers (S3_UPLOAD_CONCURRENCY + 1), across all uploads`,
      );
    } finally {
      await s3.close();
    }
  });
});

describe('S3Driver: a download split into ranges', () => {
  const MiB = 1024 * 1024;
  let s3: TestS3;
  let spoolDir: string;
  let settings: S3Settings;
  before(async () => {
    s3 = await startS3();
    spoolDir = await mkdtemp(join(tmpdir(), 'spool-test-'));
    settings = {
      bucket: s3.bucket,
      prefix: 'ranges',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      partSize: 5 * MiB,
      // A pool of two buffers for three writers: a range waits for one, never for ever.
      concurrency: 1,
      timeouts: { connectMs: 5_000, socketMs: 30_000, requestMs: 60_000 },
      spool: { dir: spoolDir, maxBytes: 64 * MiB },
    };
  });
  after(async () => {
    await s3.close();
    await rm(spoolDir, { recursive: true, force: true });
  });

  const read = async (driver: S3Driver, key: string) => {
    const chunks: Buffer[] = [];
    for await (const c of driver.read(key)) chunks.push(c);
    return Buffer.concat(chunks);
  };
  const collect = async (it: AsyncIterable<Buffer>) => {
    const chunks: Buffer[] = [];
    for await (const c of it) chunks.push(c);
    return Buffer.concat(chunks);
  };
  /** Writes bytes [start, end) in 64 KiB chunks, as a download's body comes. */
  const stream = async (write: (chunk: Buffer, at: number) => Promise<void>, bytes: Buffer, start: number, end: number) => {
    for (let at = start; at < end; at += 64 * 1024) await write(bytes.subarray(at, Math.min(at + 64 * 1024, end)), at);
  };

  it('writes the ranges straight into whole parts, out of order, and spools them for the hash: exact bytes', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    const parts: number[] = [];
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') parts.push((args.input as { PartNumber: number }).PartNumber);
        return next(args);
      },
      { step: 'initialize', name: 'part-numbers' },
    );
    const bytes = randomBytes(17 * MiB + 3);
    const upload = await driver.createUpload('account/u/split.wav');
    const ranges = upload.ranges?.(bytes.length);
    assert.ok(ranges, 'an S3 upload with a spool takes ranges');
    assert.equal(ranges.align, 5 * MiB, 'on part boundaries');
    assert.equal(ranges.room(), 64 * MiB);
    ranges.reserve(bytes.length - 5 * MiB);
    assert.equal(ranges.room(), 64 * MiB - (bytes.length - 5 * MiB));
    // The head, and two ranges at once, the last range first.
    let spooled = 0;
    await Promise.all([
      stream((chunk) => upload.write(chunk), bytes, 0, 5 * MiB),
      stream(ranges.writeAt, bytes, 15 * MiB, bytes.length),
      (async () => {
        await stream(ranges.writeAt, bytes, 5 * MiB, 15 * MiB);
        spooled = (await readdir(spoolDir)).length;
      })(),
    ]);
    assert.equal(spooled, 0, 'the spool file is unlinked as soon as it is open');
    assert.ok((await collect(ranges.readRange(5 * MiB, bytes.length))).equals(bytes.subarray(5 * MiB)), 'the spool gives the ranges back');
    assert.notDeepEqual(
      parts,
      [...parts].sort((a, b) => a - b),
      `parts sent out of order: ${parts}`,
    );
    await upload.commit();
    assert.deepEqual(
      [...parts].sort((a, b) => a - b),
      [1, 2, 3, 4],
      'each part once: three whole, the last short',
    );
    assert.ok((await read(driver, 'account/u/split.wav')).equals(bytes));
    assert.equal(ranges.room(), 64 * MiB, 'its room is back once it is stored');
  });

  it('gives its room back and leaves no object when aborted', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    const bytes = randomBytes(12 * MiB);
    const upload = await driver.createUpload('account/u/dropped.wav');
    const ranges = upload.ranges?.(bytes.length);
    assert.ok(ranges);
    const giveBack = ranges.reserve(7 * MiB);
    let told = 0;
    // Another production's idle slots listen for room as well.
    const unsubscribe = ranges.onRoomFreed?.(() => {
      told += 1;
    });
    await stream(ranges.writeAt, bytes, 10 * MiB, bytes.length);
    await upload.abort();
    assert.equal(ranges.room(), 64 * MiB);
    assert.equal(told, 1, 'those waiting for room are told');
    unsubscribe?.();
    giveBack(); // A second give-back adds nothing.
    assert.equal(ranges.room(), 64 * MiB);
    assert.equal(await driver.stat('account/u/dropped.wav'), null);
    await assert.rejects(ranges.writeAt(bytes.subarray(0, 10), 0), /finished/);
  });

  it('holds no pool buffer for a range stopped mid-part: other uploads and the head go on', async () => {
    const driver = new S3Driver(settings, { credentials: s3.credentials });
    const bytes = randomBytes(16 * MiB);
    const upload = await driver.createUpload('account/u/stopped.wav');
    const ranges = upload.ranges?.(bytes.length);
    assert.ok(ranges);
    // Two ranges stopped a megabyte into their parts, as a failing download leaves them.
    await stream(ranges.writeAt, bytes, 5 * MiB, 6 * MiB);
    await stream(ranges.writeAt, bytes, 10 * MiB, 11 * MiB);
    const other = await driver.createUpload('account/u/other.wav');
    const otherBytes = randomBytes(12 * MiB);
    const within = <T>(what: string, p: Promise<T>) =>
      Promise.race([p, sleep(15_000).then(() => assert.fail(`${what}: waited for a pool buffer the stopped ranges hold`))]);
    await within(
      'another upload',
      stream((chunk) => other.write(chunk), otherBytes, 0, otherBytes.length).then(() => other.commit()),
    );
    assert.ok((await read(driver, 'account/u/other.wav')).equals(otherBytes));
    await within(
      'the head',
      stream((chunk) => upload.write(chunk), bytes, 0, 5 * MiB),
    );
    await assert.rejects(upload.commit(), /left unfinished/);
    await upload.abort();
    assert.equal(await driver.stat('account/u/stopped.wav'), null);
  });

  it("stops a write waiting for a part buffer when the upload's signal aborts (S3 holding every part in flight)", async () => {
    const driver = new S3Driver({ ...settings, concurrency: 1 }, { credentials: s3.credentials });
    // S3 takes its time over every part: the pool's two buffers stay out.
    let release = () => {};
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    driver.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') await stalled;
        return next(args);
      },
      { step: 'initialize', name: 'stall-parts' },
    );
    const busy = await driver.createUpload('account/u/busy.wav');
    await busy.write(randomBytes(10 * MiB));
    const job = new AbortController();
    const waiting = await driver.createUpload('account/u/waiting.wav', { signal: job.signal });
    const write = waiting.write(randomBytes(1024));
    const settled = await Promise.race([
      write.then(
        () => 'written',
        () => 'rejected',
      ),
      sleep(200).then(() => 'waiting'),
    ]);
    assert.equal(settled, 'waiting', 'no buffer free');
    job.abort(new Error('job cancelled'));
    const outcome = await Promise.race([
      write.then(
        () => 'written',
        (err: unknown) => String(err),
      ),
      sleep(2000).then(() => 'still waiting'),
    ]);
    assert.match(outcome, /job cancelled/);
    release();
    await busy.abort();
    await waiting.abort();
  });

  it('stops waiting for a pool buffer when its range is stopped, and the buffer goes to the next in line', async () => {
    const pool = new PartPool(1024, 1);
    const held = await pool.acquire();
    const stop = new AbortController();
    const stopped = pool.acquire(stop.signal);
    const next = pool.acquire();
    stop.abort(new Error('range stopped'));
    await assert.rejects(stopped, /range stopped/);
    pool.release(held);
    assert.equal(await next, held);
    await assert.rejects(pool.acquire(AbortSignal.abort(new Error('already'))), /already/);
  });

  it('takes no ranges without a spool, nor of a file within one part', async () => {
    const { spool: _spool, ...noSpool } = settings;
    const without = await new S3Driver(noSpool, { credentials: s3.credentials }).createUpload('account/u/a.wav');
    assert.equal(without.ranges?.(20 * MiB), null);
    const zero = await new S3Driver({ ...settings, spool: { dir: spoolDir, maxBytes: 0 } }, { credentials: s3.credentials }).createUpload(
      'account/u/b.wav',
    );
    assert.equal(zero.ranges?.(20 * MiB), null);
    const small = await new S3Driver(settings, { credentials: s3.credentials }).createUpload('account/u/c.wav');
    assert.equal(small.ranges?.(5 * MiB), null);
  });

  it('refuses to start with a spool directory it cannot write to', async () => {
    const driver = new S3Driver(
      { ...settings, spool: { dir: join(spoolDir, 'missing'), maxBytes: 64 * MiB } },
      { credentials: s3.credentials },
    );
    await assert.rejects(driver.check(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'ERR_STORAGE_SPOOL');
      assert.match(err.message, /missing \(ENOENT\)/);
      return true;
    });
    await new S3Driver(settings, { credentials: s3.credentials }).check();
  });
});

/** A driver whose every answer comes from the stub a test adds (its endpoint answers nothing). */
function unreachableDriver(prefix: string, ownedRoots?: string[]): S3Driver {
  return new S3Driver(
    {
      bucket: 'b',
      prefix,
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      partSize: 5 * 1024 * 1024,
      concurrency: 1,
      timeouts: { connectMs: 100, socketMs: 100, requestMs: 100 },
      ...(ownedRoots ? { ownedRoots } : {}),
    },
    { credentials: { accessKeyId: 'x', secretAccessKey: 'y' } },
  );
}

describe('S3Driver sweep (ListMultipartUploads answered by a stub)', () => {
  // s3rver does not implement ListMultipartUploads nor ListParts, so their answers come from a
  // middleware here: a mock, where the real part cannot run on this machine. The aborts it asks
  // for are recorded, not sent.
  it('aborts the dead uploads on every page, never one that received a part lately (on any page of its parts), past one it cannot look at', async () => {
    const now = Date.now();
    const old = new Date(now - 3 * 3600_000);
    const pages: Record<string, { Uploads: Array<{ Key: string; UploadId: string; Initiated: Date }>; next?: string }> = {
      '': { Uploads: [{ Key: 'p/a', UploadId: 'dead-1', Initiated: old }], next: 'p/a' },
      'p/a': {
        Uploads: [
          { Key: 'p/b', UploadId: 'live-part', Initiated: old },
          { Key: 'p/c', UploadId: 'young', Initiated: new Date(now - 60_000) },
          // Completed between the list and the look at its parts.
          { Key: 'p/e', UploadId: 'gone', Initiated: old },
          { Key: 'p/d', UploadId: 'dead-2', Initiated: old },
        ],
      },
    };
    const aborted: string[] = [];
    const driver = unreachableDriver('p');
    driver.client.middlewareStack.add(
      (_next, context) => async (args) => {
        const input = args.input as { KeyMarker?: string; UploadId?: string };
        if (context.commandName === 'ListMultipartUploadsCommand') {
          const page = pages[input.KeyMarker ?? ''];
          return {
            output: { Uploads: page?.Uploads, IsTruncated: Boolean(page?.next), NextKeyMarker: page?.next, $metadata: {} },
            response: {},
          } as never;
        }
        if (context.commandName === 'ListPartsCommand') {
          if (input.UploadId === 'gone')
            throw Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
          // The live upload has more than a page of parts (over 1000): its recent one is on the second.
          if (input.UploadId !== 'live-part') return { output: { Parts: [], $metadata: {} }, response: {} } as never;
          const first = (input as { PartNumberMarker?: string }).PartNumberMarker === undefined;
          const output = first
            ? { Parts: [{ PartNumber: 1, LastModified: old }], IsTruncated: true, NextPartNumberMarker: '1000' }
            : { Parts: [{ PartNumber: 1001, LastModified: new Date(now - 60_000) }], IsTruncated: false };
          return { output: { ...output, $metadata: {} }, response: {} } as never;
        }
        if (context.commandName === 'AbortMultipartUploadCommand') {
          aborted.push(input.UploadId ?? '');
          return { output: { $metadata: {} }, response: {} } as never;
        }
        throw new Error(`unexpected ${context.commandName}`);
      },
      { step: 'initialize', name: 'stub' },
    );
    assert.equal(await driver.sweep(now), 2);
    assert.deepEqual(aborted, ['dead-1', 'dead-2']);
  });

  it("looks under this service's own keys only, never another application's in the same bucket", async () => {
    const old = new Date(Date.now() - 3 * 3600_000);
    const uploads = ['p/account/u1/a.mp3', 'p/connections/c/u2/b.mp3', 'p/other-app/x', 'podcasts-archive/y', 'elsewhere/z'];
    const listed: string[] = [];
    const aborted: string[] = [];
    const driver = (prefix: string, ownedRoots?: string[]) => {
      const d = unreachableDriver(prefix, ownedRoots);
      d.client.middlewareStack.add(
        (_next, context) => async (args) => {
          const input = args.input as { Prefix?: string; Key?: string };
          if (context.commandName === 'ListMultipartUploadsCommand') {
            listed.push(input.Prefix ?? '(none)');
            // As S3 lists: the keys that begin with the prefix.
            const Uploads = uploads.filter((k) => k.startsWith(input.Prefix ?? '')).map((Key) => ({ Key, UploadId: Key, Initiated: old }));
            return { output: { Uploads, IsTruncated: false, $metadata: {} }, response: {} } as never;
          }
          if (context.commandName === 'ListPartsCommand') return { output: { Parts: [], $metadata: {} }, response: {} } as never;
          if (context.commandName === 'AbortMultipartUploadCommand') {
            aborted.push(input.Key ?? '');
            return { output: { $metadata: {} }, response: {} } as never;
          }
          throw new Error(`unexpected ${context.commandName}`);
        },
        { step: 'initialize', name: 'stub' },
      );
      return d;
    };
    await driver('p', ['account', 'connections']).sweep();
    assert.deepEqual(listed, ['p/account/', 'p/connections/']);
    assert.deepEqual(aborted, ['p/account/u1/a.mp3', 'p/connections/c/u2/b.mp3']);
    listed.length = 0;
    aborted.length = 0;
    await driver('p').sweep();
    assert.deepEqual(
      [listed, aborted],
      [['p/'], ['p/account/u1/a.mp3', 'p/connections/c/u2/b.mp3', 'p/other-app/x']],
      "not 'podcasts-archive/'",
    );
    listed.length = 0;
    aborted.length = 0;
    await driver('', ['account', 'connections']).sweep();
    assert.deepEqual(listed, ['account/', 'connections/'], 'no prefix: still not the whole bucket');
  });
});

describe('S3 errors', () => {
  it('retries outages and throttling, not refusals', async () => {
    const { storageError } = await import('../src/s3-driver.ts');
    const err = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    assert.equal(storageError(err('InternalError', 500)).retryable, true);
    assert.equal(storageError(err('SlowDown', 503)).retryable, true);
    assert.equal(storageError(err('TooManyRequests', 429)).retryable, true);
    assert.equal(storageError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).retryable, true);
    assert.equal(storageError(err('NoSuchUpload', 404)).retryable, true, 'an upload aborted under its writer starts again');
    assert.equal(storageError(err('AccessDenied', 403)).retryable, false);
    assert.equal(storageError(err('NoSuchBucket', 404)).retryable, false);
  });
});
