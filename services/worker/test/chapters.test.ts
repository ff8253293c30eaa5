import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bytes, startFixture, type WorkerFixture } from './helpers.ts';
import { assertJsonChapters } from './json-chapters.ts';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

interface RecordFile {
  filename: string;
  kind: string;
  key: string;
  size: number;
  md5: string;
  url?: string;
  mediaType?: string;
  chapter?: number;
}

/** What the record and the folder say, read back as the host's system would. */
function reader(f: WorkerFixture) {
  const file = (uuid: string, name: string) => readFile(join(f.storageDir, 'account', uuid, name));
  return {
    file,
    async record(uuid: string) {
      return JSON.parse((await file(uuid, 'auphonic-production.json')).toString('utf8'));
    },
    async chapters(uuid: string) {
      const doc: unknown = JSON.parse((await file(uuid, 'chapters.json')).toString('utf8'));
      assertJsonChapters(doc);
      return doc;
    },
    /** The names in the production's folder. */
    async names(uuid: string) {
      return (await f.listFiles()).filter((x) => x.startsWith(`account/${uuid}/`)).map((x) => x.slice(`account/${uuid}/`.length));
    },
    /** Every file the record lists is in storage, byte for byte what it says. */
    async checkFiles(uuid: string, files: RecordFile[]) {
      for (const entry of files) {
        assert.equal(entry.key, `account/${uuid}/${entry.filename}`);
        const stored = await file(uuid, entry.filename);
        assert.equal(entry.size, stored.length, entry.filename);
        assert.equal(entry.md5, md5(stored), entry.filename);
      }
    },
  };
}

describe('worker: chapters.json, cover and chapter images beside the audio', () => {
  let f: WorkerFixture;
  let read: ReturnType<typeof reader>;
  before(async () => {
    f = await startFixture();
    await f.startWorker();
    read = reader(f);
  });
  after(() => f.close());

  it('writes chapters.json at the output times, and stores the cover and chapter images, all listed in the record', async () => {
    const mp3 = bytes(100_000, 21);
    const cover = bytes(3000, 22);
    const art = bytes(2000, 23);
    const p = await f.sim.addProduction({
      files: [{ filename: 'episode.mp3', content: mp3 }],
      image: { filename: 'your-cover-image.jpeg', content: cover },
      chapters: [
        { title: 'First Chapter Name', url: 'https://auphonic.com', start: 10, startOutput: 25.372585 },
        { title: 'Second Chapter', url: '', start: 138, startOutput: 153.372585, image: { filename: 'chapter1.png', content: art } },
      ],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);

    assert.deepEqual(await read.chapters(p.uuid), {
      version: '1.2.0',
      chapters: [
        { startTime: 25.372585, title: 'First Chapter Name', url: 'https://auphonic.com' },
        { startTime: 153.372585, title: 'Second Chapter', img: 'chapter-2.png' },
      ],
    });
    assert.deepEqual(await read.file(p.uuid, 'cover.jpeg'), cover);
    assert.deepEqual(await read.file(p.uuid, 'chapter-2.png'), art);
    assert.deepEqual((await read.names(p.uuid)).sort(), [
      'auphonic-production.json',
      'chapter-2.png',
      'chapters.json',
      'cover.jpeg',
      'episode.mp3',
    ]);

    const { bridge } = await read.record(p.uuid);
    assert.equal(bridge.outcome, 'complete');
    assert.deepEqual(
      bridge.files.map((x: RecordFile) => [x.filename, x.kind, x.mediaType ?? null, x.chapter ?? null]),
      [
        ['episode.mp3', 'audio', null, null],
        ['cover.jpeg', 'cover', 'image/jpeg', null],
        ['chapter-2.png', 'chapter-image', 'image/png', 2],
        ['chapters.json', 'chapters', null, null],
      ],
    );
    await read.checkFiles(p.uuid, bridge.files);
    const chaptersEntry = bridge.outputs.find((o: { kind: string }) => o.kind === 'chapters');
    assert.deepEqual(chaptersEntry.times, { from: 'output', inputTimes: [], leftOut: [] });
    assert.ok(!('url' in bridge.files[0]), 'no url without PUBLIC_FILES_URL');

    assert.deepEqual(
      end.result?.stored?.map((s) => [s.filename, s.kind]),
      [
        ['episode.mp3', 'audio'],
        ['cover.jpeg', 'cover'],
        ['chapter-2.png', 'chapter-image'],
        ['chapters.json', 'chapters'],
      ],
    );
    assert.equal(end.result?.files, 4);

    // Images come the way audio does: our token to Auphonic's origin, never past its 302 to storage.
    const imageRequests = f.sim.requests.filter((r) => r.path.includes(p.uuid) && /cover|chapter1/.test(r.path));
    assert.deepEqual(imageRequests.map((r) => [r.origin, r.status, r.hasAuthorization]).sort(), [
      ['api', 302, true],
      ['api', 302, true],
      ['storage', 200, false],
      ['storage', 200, false],
    ]);
  });

  it('takes start_sec only where the output time is absent, and says so in the record', async () => {
    const p = await f.sim.addProduction({
      files: [{ filename: 'old.mp3', content: bytes(5000, 24) }],
      chapters: [
        { title: 'Intro', start: 0, startOutput: 0 },
        { title: 'No output time', start: 95.5, startOutput: null },
        { title: 'Later', start: 300, startOutput: 280.25 },
      ],
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).state, 'completed');
    assert.deepEqual(
      (await read.chapters(p.uuid)).chapters.map((c) => c.startTime),
      [0, 95.5, 280.25],
    );
    const { bridge } = await read.record(p.uuid);
    const entry = bridge.outputs.find((o: { kind: string }) => o.kind === 'chapters');
    assert.deepEqual(entry.times, { from: 'mixed', inputTimes: [2], leftOut: [] });
  });

  it('writes no chapters.json for a production without chapters, and stores its cover alone', async () => {
    const p = await f.sim.addProduction({
      files: [{ filename: 'plain.mp3', content: bytes(5000, 25) }],
      image: { filename: 'art.png', content: bytes(500, 26) },
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).state, 'completed');
    assert.deepEqual((await read.names(p.uuid)).sort(), ['auphonic-production.json', 'cover.png', 'plain.mp3']);
  });

  it('retries a failed image alone, and chapters.json points at it once it is stored', async () => {
    const mp3 = bytes(50_000, 27);
    const p = await f.sim.addProduction({
      files: [{ filename: 'ep.mp3', content: mp3 }],
      chapters: [
        { title: 'One', start: 0 },
        { title: 'Two', start: 60, image: { filename: 'two.webp', content: bytes(700, 28) } },
      ],
    });
    // More 503s than the quick retries of one attempt (REQUEST_RETRIES, 4): the first attempt records it failed.
    f.sim.inject({ target: 'storage', kind: 'status', status: 503, times: 5, uuid: p.uuid, filename: 'two.webp' });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'complete');
    assert.ok(f.detailCalls(p.uuid) >= 2, 'a second attempt');
    assert.equal(f.sim.downloadsStarted(p.uuid, 'ep.mp3'), 1, 'the audio was not fetched again');
    assert.deepEqual(await read.file(p.uuid, 'ep.mp3'), mp3);
    assert.deepEqual(
      (await read.chapters(p.uuid)).chapters.map((c) => c.img ?? null),
      [null, 'chapter-2.webp'],
    );
    assert.ok(
      f.logs.records().some((l) => l.uuid === p.uuid && l.filename === 'chapter-2.webp' && l.fate === 'failed'),
      'the first attempt recorded the image as failed',
    );
  });

  it('refuses an image that is too big, not an image, or off Auphonic, with the reason, and keeps the audio', async () => {
    const mp3 = bytes(20_000, 29);
    const p = await f.sim.addProduction({
      files: [{ filename: 'keep.mp3', content: mp3 }],
      image: { filename: 'cover.png', content: Buffer.from('<html>login</html>'), contentType: 'text/html; charset=utf-8' },
      chapters: [
        { title: 'Huge', start: 0, image: { filename: 'huge.png', content: Buffer.alloc(20 * 1024 * 1024 + 1) } },
        { title: 'Elsewhere', start: 10, image: { filename: 'x.png', url: 'https://images.example.com/x.png' } },
        { title: 'Fine', start: 20, image: { filename: 'fine.gif', content: bytes(100, 30) } },
        // As object storage serves many an upload: a generic type, the image all the same.
        { title: 'Generic', start: 30, image: { filename: 'generic.jpg', content: bytes(200, 33), contentType: 'binary/octet-stream' } },
      ],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.state, 'completed', end.reason);
    assert.equal(end.result?.outcome, 'partial');
    assert.equal(f.detailCalls(p.uuid), 1, 'refused for good: not tried again');
    assert.deepEqual(await read.file(p.uuid, 'keep.mp3'), mp3);
    const { bridge } = await read.record(p.uuid);
    assert.deepEqual(
      bridge.outputs.map((o: { filename: string; kind: string; fate: string; code?: string }) => [o.filename, o.kind, o.fate, o.code]),
      [
        ['keep.mp3', 'audio', 'stored', undefined],
        ['cover.png', 'cover', 'refused', 'ERR_DOWNLOAD_WRONG_TYPE'],
        ['chapter-1.png', 'chapter-image', 'refused', 'ERR_DOWNLOAD_TOO_LARGE'],
        ['chapter-2.png', 'chapter-image', 'refused', 'ERR_DOWNLOAD_FOREIGN_HOST'],
        ['chapter-3.gif', 'chapter-image', 'stored', undefined],
        ['chapter-4.jpg', 'chapter-image', 'stored', undefined],
        ['chapters.json', 'chapters', 'stored', undefined],
      ],
    );
    assert.deepEqual((await read.names(p.uuid)).sort(), [
      'auphonic-production.json',
      'chapter-3.gif',
      'chapter-4.jpg',
      'chapters.json',
      'keep.mp3',
    ]);
    const hugeFetches = f.sim.requests.filter((r) => r.origin === 'storage' && r.path === `/auphonic-uploads/${p.uuid}/huge.png`);
    assert.equal(hugeFetches.length, 1, 'refused on its Content-Length, and not asked for again');
    assert.deepEqual(
      (await read.chapters(p.uuid)).chapters.map((c) => c.img ?? null),
      [null, null, 'chapter-3.gif', 'chapter-4.jpg'],
    );
  });

  it('replaces chapters and images on a re-run with another cut (Podlove #1599): output times as given, no image lost, none left over', async () => {
    const topicArt = bytes(1500, 31);
    const p = await f.sim.addProduction({
      files: [{ filename: 'show.mp3', content: bytes(80_000, 32) }],
      image: { filename: 'cover.png', content: bytes(900, 33) },
      chapters: [
        { title: 'Intro', start: 0, startOutput: 0 },
        { title: 'Topic', start: 138, startOutput: 153.372585, image: { filename: 'topic.png', content: topicArt } },
        { title: 'Extra', start: 200, startOutput: 215.4, image: { filename: 'extra.png', content: bytes(800, 34) } },
      ],
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    assert.deepEqual(
      (await read.chapters(p.uuid)).chapters.map((c) => [c.startTime, c.title, c.img ?? null]),
      [
        [0, 'Intro', null],
        [153.372585, 'Topic', 'chapter-2.png'],
        [215.4, 'Extra', 'chapter-3.png'],
      ],
    );

    // The re-run: Auphonic cut more at the start (every output time moves), a chapter is new, one is gone, a new cover.
    const newsArt = bytes(1100, 35);
    const newCover = bytes(1000, 36);
    const mp3 = bytes(70_000, 37);
    await f.sim.updateProduction(p.uuid, {
      files: [{ filename: 'show.mp3', content: mp3 }],
      image: { filename: 'cover.jpg', content: newCover },
      chapters: [
        { title: 'Intro', start: 0, startOutput: 0 },
        { title: 'News', start: 60, startOutput: 40, image: { filename: 'news.jpg', content: newsArt } },
        { title: 'Topic', start: 138, startOutput: 118.2, image: { filename: 'topic.png', content: topicArt } },
      ],
    });
    const end = await f.settled(await f.enqueue(p.uuid));
    assert.equal(end.result?.outcome, 'complete', end.reason);

    // Auphonic's new output times, as they are: not the old ones shortened by the new cut once more.
    assert.deepEqual(
      (await read.chapters(p.uuid)).chapters.map((c) => [c.startTime, c.title, c.img ?? null]),
      [
        [0, 'Intro', null],
        [40, 'News', 'chapter-2.jpg'],
        [118.2, 'Topic', 'chapter-3.png'],
      ],
    );
    // Each image follows its chapter; what the old rendering had and the new one does not is gone.
    assert.deepEqual(await read.file(p.uuid, 'chapter-2.jpg'), newsArt);
    assert.deepEqual(await read.file(p.uuid, 'chapter-3.png'), topicArt);
    assert.deepEqual(await read.file(p.uuid, 'cover.jpg'), newCover);
    assert.deepEqual(await read.file(p.uuid, 'show.mp3'), mp3);
    assert.deepEqual((await read.names(p.uuid)).sort(), [
      'auphonic-production.json',
      'chapter-2.jpg',
      'chapter-3.png',
      'chapters.json',
      'cover.jpg',
      'show.mp3',
    ]);
    const { bridge } = await read.record(p.uuid);
    assert.deepEqual(
      bridge.files.map((x: RecordFile) => x.filename),
      ['show.mp3', 'cover.jpg', 'chapter-2.jpg', 'chapter-3.png', 'chapters.json'],
    );
    await read.checkFiles(p.uuid, bridge.files);

    // The same webhook once more: nothing changed, nothing fetched.
    const served = f.sim.imageDownloadsStarted(p.uuid, 'news.jpg');
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'unchanged');
    assert.equal(f.sim.imageDownloadsStarted(p.uuid, 'news.jpg'), served);
  });

  it('removes chapters.json and the images when a re-run has no chapters and no cover, and keeps the audio', async () => {
    const p = await f.sim.addProduction({
      files: [{ filename: 'bare.mp3', content: bytes(6000, 42) }],
      image: { filename: 'c.png', content: bytes(100, 43) },
      chapters: [{ title: 'A', start: 0, image: { filename: 'a.png', content: bytes(100, 44) } }],
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    assert.equal((await read.names(p.uuid)).length, 5);
    await f.sim.updateProduction(p.uuid, { image: null, chapters: [] });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).result?.outcome, 'complete');
    assert.deepEqual((await read.names(p.uuid)).sort(), ['auphonic-production.json', 'bare.mp3']);
  });
});

describe('worker: chapters.json with PUBLIC_FILES_URL', () => {
  let f: WorkerFixture;
  before(async () => {
    f = await startFixture();
    await f.startWorker({ PUBLIC_FILES_URL: 'https://cdn.example.com/pod casts/' });
  });
  after(() => f.close());

  it('points chapter images at their public copies, and gives every stored file its url', async () => {
    const p = await f.sim.addProduction({
      files: [{ filename: 'Folge 1.mp3', content: bytes(4000, 40) }],
      chapters: [{ title: 'Art', start: 1.5, image: { filename: 'a.png', content: bytes(300, 41) } }],
    });
    assert.equal((await f.settled(await f.enqueue(p.uuid))).state, 'completed');
    const base = `https://cdn.example.com/pod%20casts/account/${p.uuid}`;
    const read = reader(f);
    assert.deepEqual((await read.chapters(p.uuid)).chapters, [{ startTime: 1.5, title: 'Art', img: `${base}/chapter-1.png` }]);
    const record = await read.record(p.uuid);
    assert.deepEqual(
      record.bridge.files.map((x: RecordFile) => x.url),
      [`${base}/Folge%201.mp3`, `${base}/chapter-1.png`, `${base}/chapters.json`],
    );
  });
});
