import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pseudoRandomBytes, randomUuid } from './ids.ts';
import { STATUS_DONE, STATUS_ERROR, statusString } from './statuses.ts';

export interface SimulatedFile {
  /** Output filename; null only for an output "not rendered yet" (then nothing is served). */
  filename: string | null;
  /** Default from the ending: mp3 -> mp3, m4a -> aac, ogg -> vorbis, mp4 -> video, srt/vtt -> subtitle, else the ending. */
  format?: string;
  bitrate?: number;
  /** Bytes served. Without content or path, 1 KiB of deterministic bytes. */
  content?: Buffer;
  /** A file on disk streamed from; never read whole into memory. */
  path?: string;
  /** Overrides the reported checksum (default: md5 hex of the bytes). */
  checksum?: string | null;
  /** Overrides the reported size (default: the real byte length). */
  size?: number;
  /** Overrides download_url (a foreign host, or null for "not rendered yet"). */
  downloadUrl?: string | null;
  /** Overrides the Content-Type storage serves (default from the ending). */
  contentType?: string;
}

/**
 * An image uploaded with the production (its cover, a chapter's image): the
 * details link it as /api/download/audio-upload/{uuid}/{filename}, which
 * redirects to storage like a result file. Auphonic announces no size or
 * checksum for it.
 */
export interface SimulatedImage {
  filename: string;
  /** Bytes served. Default: 1 KiB of deterministic bytes. */
  content?: Buffer;
  /** Default from the ending: image/png, image/jpeg, image/gif, image/webp. */
  contentType?: string;
  /** Overrides the URL in the details (a foreign host, say). */
  url?: string;
}

/** A chapter mark, in seconds; Auphonic's cuts move it in the output. */
export interface SimulatedChapter {
  title?: string;
  url?: string;
  /** Where it starts in the input: `start`, `start_sec`. */
  start: number;
  /** Where it starts in the output (after cuts): `start_output`, `start_output_sec`. Default: `start`; null leaves both out. */
  startOutput?: number | null;
  image?: SimulatedImage | null;
}

export interface AddProductionInput {
  /** Default: random 22 chars [A-Za-z0-9]. */
  uuid?: string;
  /** Default 3 (Done); 2 (Error) sets error_message and error_status. */
  status?: number;
  files?: SimulatedFile[];
  metadata?: Record<string, unknown>;
  webhook?: string | null;
  /** The user the production belongs to (default: the API key's user). */
  owner?: string;
  /** The External Service (its uuid) the production selected, if any. */
  service?: string | null;
  /** Backdates the production (creation_time and change_time), e.g. to test how far back the reconciler looks. */
  createdAt?: Date;
  /** The cover image (`image`). */
  image?: SimulatedImage | null;
  chapters?: SimulatedChapter[];
}

export interface ProductionPatch {
  status?: number;
  files?: SimulatedFile[];
  metadata?: Record<string, unknown>;
  image?: SimulatedImage | null;
  chapters?: SimulatedChapter[];
}

/** A chapter as `chapters[]` of the details has it. */
export interface ChapterData {
  title: string;
  url: string;
  image: string | null;
  start: string;
  start_sec: number;
  start_output?: string;
  start_output_sec?: number;
}

export interface OutputFile {
  format: string;
  ending: string;
  suffix: string;
  filename: string | null;
  split_on_chapters: boolean;
  bitrate: number;
  mono_mixdown: boolean;
  size: number;
  size_string: string;
  download_url: string | null;
  outgoing_services: unknown[];
  checksum: string | null;
}

/** `data` of GET /api/production/{uuid}.json, with the fields of a 2026 answer. */
export interface Production {
  uuid: string;
  status: number;
  status_string: string;
  error_message: string;
  error_status: number | null;
  warning_message: string;
  warning_status: number | null;
  length: number;
  length_timestring: string;
  used_credits: { recurring: number; onetime: number; combined: number };
  bitrate: number;
  channels: number;
  samplerate: number;
  format: string;
  has_video: boolean;
  input_file: string;
  output_basename: string;
  preset: string | null;
  change_allowed: boolean;
  start_allowed: boolean;
  in_review: boolean;
  is_multitrack: boolean;
  review_before_publishing: boolean;
  cut_start: number;
  cut_end: number;
  creation_time: string;
  change_time: string;
  image: string | null;
  service: string | null;
  shownotes: string | null;
  thumbnail: string | null;
  webhook: string | null;
  chapters: ChapterData[];
  cuts: unknown[];
  multi_input_files: unknown[];
  outgoing_services: unknown[];
  edit_page: string;
  status_page: string;
  waveform_image: string;
  algorithms: Record<string, unknown>;
  metadata: Record<string, unknown>;
  speech_recognition: Record<string, unknown>;
  statistics: Record<string, unknown>;
  output_files: OutputFile[];
}

/** A file as the simulator holds it: what is served and what is reported. */
export interface StoredFile {
  filename: string | null;
  format: string;
  ending: string;
  bitrate: number;
  content: Buffer | undefined;
  path: string | undefined;
  /** Real md5 hex and length of the bytes served. */
  md5: string;
  length: number;
  /** Reported in output_files. */
  checksum: string | null;
  size: number;
  downloadUrl: string | null | undefined;
  contentType: string | undefined;
}

/** A chapter as the simulator holds it. */
export interface StoredChapter {
  title: string;
  url: string;
  start: number;
  startOutput: number | null;
  image: StoredFile | null;
}

export interface ProductionRecord {
  uuid: string;
  owner: string;
  service: string | null;
  status: number;
  files: StoredFile[];
  metadata: Record<string, unknown>;
  webhook: string | null;
  creationTime: Date;
  changeTime: Date;
  speechUuid: string;
  image: StoredFile | null;
  chapters: StoredChapter[];
}

const FORMAT_BY_ENDING: Record<string, string> = {
  mp3: 'mp3',
  m4a: 'aac',
  ogg: 'vorbis',
  mp4: 'video',
  srt: 'subtitle',
  vtt: 'subtitle',
};

const AUDIO_FORMATS = new Set(['mp3', 'aac', 'vorbis', 'opus', 'flac', 'alac', 'wav', 'video']);

const DEFAULT_METADATA = { album: '', subtitle: '', license: '', summary: '', artist: '', track: '', title: 'Simulated production' };

export function endingOf(filename: string | null): string {
  if (!filename) return '';
  const dot = filename.lastIndexOf('.');
  return dot > 0 ? filename.slice(dot + 1).toLowerCase() : '';
}

/** Auphonic's size_string: binary units, one decimal ("784.8 KB"). */
export function sizeString(bytes: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function timestring(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function seedOf(text: string): number {
  return createHash('md5').update(text).digest().readUInt32LE(0);
}

export async function prepareFile(file: SimulatedFile): Promise<StoredFile> {
  if (file.content !== undefined && file.path !== undefined) throw new Error('a simulated file has either content or path, not both');
  const ending = endingOf(file.filename);
  const format = file.format ?? FORMAT_BY_ENDING[ending] ?? ending;
  let md5: string;
  let length: number;
  let content: Buffer | undefined;
  if (file.path !== undefined) {
    const info = await stat(file.path);
    if (!info.isFile()) throw new Error(`not a file: ${file.path}`);
    length = info.size;
    md5 = await md5OfFile(file.path);
  } else {
    content = file.content ?? pseudoRandomBytes(1024, seedOf(file.filename ?? ''));
    length = content.length;
    md5 = createHash('md5').update(content).digest('hex');
  }
  return {
    filename: file.filename,
    format,
    ending,
    bitrate: file.bitrate ?? (AUDIO_FORMATS.has(format) ? 128 : 0),
    content,
    path: file.path,
    md5,
    length,
    checksum: file.checksum === undefined ? md5 : file.checksum,
    size: file.size ?? length,
    downloadUrl: file.downloadUrl,
    contentType: file.contentType,
  };
}

function prepareImage(image: SimulatedImage | null | undefined): Promise<StoredFile | null> {
  if (!image) return Promise.resolve(null);
  return prepareFile({ filename: image.filename, content: image.content, contentType: image.contentType, downloadUrl: image.url });
}

async function prepareChapters(chapters: SimulatedChapter[]): Promise<StoredChapter[]> {
  return Promise.all(
    chapters.map(async (c) => ({
      title: c.title ?? '',
      url: c.url ?? '',
      start: c.start,
      startOutput: c.startOutput === undefined ? c.start : c.startOutput,
      image: await prepareImage(c.image),
    })),
  );
}

export function downloadPath(uuid: string, filename: string): string {
  return `api/download/audio-result/${uuid}/${encodeURIComponent(filename)}`;
}

/** Where the details link an image uploaded with the production, as in Auphonic's own example. */
export function uploadPath(uuid: string, filename: string): string {
  return `api/download/audio-upload/${uuid}/${encodeURIComponent(filename)}`;
}

/** Holds the simulated productions and renders them as the API answers. */
export class ProductionStore {
  readonly #records = new Map<string, ProductionRecord>();

  async add(input: AddProductionInput & { owner: string }): Promise<ProductionRecord> {
    const uuid = input.uuid ?? randomUuid();
    if (this.#records.has(uuid)) throw new Error(`production ${uuid} exists already`);
    const files = await Promise.all((input.files ?? []).map(prepareFile));
    const now = input.createdAt ?? new Date();
    const record: ProductionRecord = {
      uuid,
      owner: input.owner,
      service: input.service ?? null,
      status: input.status ?? STATUS_DONE,
      files,
      metadata: { ...DEFAULT_METADATA, ...structuredClone(input.metadata ?? {}) },
      webhook: input.webhook ?? null,
      creationTime: now,
      changeTime: now,
      speechUuid: randomUuid(),
      image: await prepareImage(input.image),
      chapters: await prepareChapters(input.chapters ?? []),
    };
    this.#records.set(uuid, record);
    return record;
  }

  /** A re-run: replaces what the patch names and bumps change_time. */
  async update(uuid: string, patch: ProductionPatch): Promise<ProductionRecord> {
    const record = this.require(uuid);
    const files = patch.files ? await Promise.all(patch.files.map(prepareFile)) : undefined;
    if (patch.status !== undefined) record.status = patch.status;
    if (files) record.files = files;
    if (patch.metadata) record.metadata = { ...record.metadata, ...structuredClone(patch.metadata) };
    if (patch.image !== undefined) record.image = await prepareImage(patch.image);
    if (patch.chapters) record.chapters = await prepareChapters(patch.chapters);
    this.touch(record);
    return record;
  }

  /** change_time strictly increases, so a re-run is always distinguishable. */
  touch(record: ProductionRecord): void {
    const now = Date.now();
    record.changeTime = new Date(Math.max(now, record.changeTime.getTime() + 1));
  }

  get(uuid: string): ProductionRecord | undefined {
    return this.#records.get(uuid);
  }

  require(uuid: string): ProductionRecord {
    const record = this.#records.get(uuid);
    if (!record) throw new Error(`no simulated production ${uuid}`);
    return record;
  }

  /** Newest first, like the list endpoint. */
  list(): ProductionRecord[] {
    return [...this.#records.values()].sort((a, b) => b.creationTime.getTime() - a.creationTime.getTime());
  }

  /** The file served under that name, if it was rendered. */
  file(uuid: string, filename: string): StoredFile | undefined {
    return this.#records.get(uuid)?.files.find((f) => f.filename === filename && f.downloadUrl !== null);
  }

  /** An image uploaded with the production (the cover, a chapter's), by name. */
  upload(uuid: string, filename: string): StoredFile | undefined {
    const record = this.#records.get(uuid);
    if (!record) return undefined;
    return [record.image, ...record.chapters.map((c) => c.image)].find((i) => i?.filename === filename) ?? undefined;
  }
}

function imageUrl(uuid: string, image: StoredFile | null, baseUrl: URL): string | null {
  if (!image?.filename) return null;
  return image.downloadUrl ?? new URL(uploadPath(uuid, image.filename), baseUrl).href;
}

function chapterData(uuid: string, c: StoredChapter, baseUrl: URL): ChapterData {
  return {
    title: c.title,
    url: c.url,
    image: imageUrl(uuid, c.image, baseUrl),
    start: timestring(c.start),
    start_sec: c.start,
    ...(c.startOutput === null ? {} : { start_output: timestring(c.startOutput), start_output_sec: c.startOutput }),
  };
}

export function outputFileData(uuid: string, file: StoredFile, baseUrl: URL): OutputFile {
  let downloadUrl: string | null;
  if (file.downloadUrl !== undefined) downloadUrl = file.downloadUrl;
  else downloadUrl = file.filename === null ? null : new URL(downloadPath(uuid, file.filename), baseUrl).href;
  return {
    format: file.format,
    ending: file.ending,
    suffix: '',
    filename: file.filename,
    split_on_chapters: false,
    bitrate: file.bitrate,
    mono_mixdown: false,
    size: file.size,
    size_string: sizeString(file.size),
    download_url: downloadUrl,
    outgoing_services: [],
    checksum: file.checksum,
  };
}

export function productionData(record: ProductionRecord, baseUrl: URL): Production {
  const { uuid, status, files } = record;
  const first = files.find((f) => f.filename);
  const basename = first?.filename ? first.filename.replace(/\.[^.]*$/, '') : 'simulated-production';
  const timed = files.find((f) => f.bitrate > 0 && f.size > 0);
  const length = timed ? (timed.size * 8) / (timed.bitrate * 1000) : 0;
  const failed = status === STATUS_ERROR;
  return {
    uuid,
    status,
    status_string: statusString(status),
    error_message: failed ? 'Simulated error: audio processing failed.' : '',
    // The real values are undocumented; any non-null marks the error.
    error_status: failed ? 1 : null,
    warning_message: '',
    warning_status: null,
    length,
    length_timestring: timestring(length),
    used_credits: { recurring: 0.0, onetime: 0.05, combined: 0.05 },
    bitrate: 1536.0,
    channels: 2,
    samplerate: 48000,
    format: 'wav',
    has_video: files.some((f) => f.format === 'video'),
    input_file: `${basename}.wav`,
    output_basename: basename,
    preset: null,
    change_allowed: true,
    start_allowed: status === 9 || status === 10,
    in_review: false,
    is_multitrack: false,
    review_before_publishing: false,
    cut_start: 0.0,
    cut_end: 0.0,
    creation_time: record.creationTime.toISOString(),
    change_time: record.changeTime.toISOString(),
    image: imageUrl(uuid, record.image, baseUrl),
    service: record.service,
    shownotes: null,
    thumbnail: null,
    webhook: record.webhook,
    chapters: record.chapters.map((c) => chapterData(uuid, c, baseUrl)),
    cuts: [],
    multi_input_files: [],
    outgoing_services: [],
    edit_page: new URL(`engine/upload/edit/${uuid}`, baseUrl).href,
    status_page: new URL(`engine/status/${uuid}`, baseUrl).href,
    waveform_image: new URL(`api/download/audio-result/${uuid}/waveform.png`, baseUrl).href,
    algorithms: { filtering: true, filtermethod: 'autoeq', leveler: true, levelermode: 'default', compressor_speech: 'auto' },
    metadata: structuredClone(record.metadata),
    speech_recognition: { uuid: record.speechUuid, keywords: [''], type: 'whisper', language: 'auto', shownotes: false },
    statistics: {
      levels: {
        input: { signal_level: [-32.35, 'dB'], noise_level: [-73.14, 'dB'], snr: [40.79, 'dB'] },
        output: { loudness: [-16.0, 'LUFS'], peak: [-1.0, 'dBTP'], lra: [3.0, 'LU'] },
      },
    },
    output_files: files.map((f) => outputFileData(uuid, f, baseUrl)),
  };
}

const HEAVY_FIELDS = [
  'output_files',
  'statistics',
  'chapters',
  'cuts',
  'multi_input_files',
  'outgoing_services',
  'algorithms',
  'speech_recognition',
  'used_credits',
] as const;

/** `minimal_data=1` of the list endpoint: the production without its bulky parts. */
export function minimalData(record: ProductionRecord, baseUrl: URL): Record<string, unknown> {
  const data: Record<string, unknown> = { ...productionData(record, baseUrl) };
  for (const key of HEAVY_FIELDS) delete data[key];
  return data;
}
