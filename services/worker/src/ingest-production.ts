import {
  AuphonicError,
  isCredentialRefusal,
  isProductionUuid,
  type Production,
  outcomeOf as statusOutcome,
} from '@auphonic-bridge/auphonic';
import type { Owner, ProductionJobData, ProductionJobResult } from '@auphonic-bridge/queue';
import { type Logger, redactCredentials } from '@auphonic-bridge/runtime';
import type { StorageDriver } from '@auphonic-bridge/storage';
import { mapBounded } from './bounded.ts';
import { type ChapterMark, chapterMarks } from './chapter-marks.ts';
import { jsonChapters, storeChapters } from './chapters-file.ts';
import type { Credentials } from './credentials.ts';
import { EventNotQueuedError, IngestError, ProductionChangedError, ProductionRunningError } from './errors.ts';
import { NOT_FINISHED_PATIENCE_MS } from './fate.ts';
import { planImages } from './images.ts';
import { NOT_RENDERED, planOutputs } from './outputs.ts';
import { RangeHelp } from './range-help.ts';
import {
  asRecord,
  type ChapterTimes,
  fingerprint,
  type OutputRecord,
  outcomeOf,
  type ProductionRecord,
  type RecordOutcome,
  storedFiles,
} from './record.ts';
import { removeStaleFiles } from './stale-files.ts';
import { CHAPTERS_NAME, fileKey, nameKey, productionPrefix, publicFileUrl, recordKey } from './storage-layout.ts';
import { type OutputDeps, storeOutput } from './store-output.ts';

export interface IngestDeps {
  credentials: (owner: Owner) => Promise<Credentials>;
  storage: StorageDriver;
  verifyChecksums: boolean;
  downloadResumes: number;
  /** Outputs of one production downloaded at once. */
  downloadConcurrency: number;
  /** Idle slots take ranges of a running download of at least this many bytes (0: never). */
  splitMinBytes: number;
  /** PUBLIC_FILES_URL: stored keys are public under it (chapter images in chapters.json, `url` in the record). */
  publicFilesUrl: URL | null;
  /** A record written for good (final): the host's system is to hear of it. */
  onRecorded?: (record: ProductionRecord) => Promise<void>;
  onBytes?: (bytes: number) => void;
}

export interface IngestContext {
  log: Logger;
  signal?: AbortSignal;
  /** The retry budget is spent: whatever fails now is recorded as final. */
  lastChance: boolean;
  /** How long this job has waited for what Auphonic may still bring (0 before it first did): see IngestError.waiting. */
  waitingForMs?: number;
  /** After every chunk stored. */
  onProgress?: (progress: { filename: string; bytes: number; total: number | null }) => void;
}

/**
 * One production, from a webhook's word to verified files and a record:
 * the API's status decides (never the webhook's), each output meets its own
 * fate, an unchanged production is not downloaded again, a re-run one is,
 * and a retry fetches only what is still missing.
 */
export async function ingestProduction(deps: IngestDeps, data: ProductionJobData, ctx: IngestContext): Promise<ProductionJobResult> {
  if (!isProductionUuid(data.uuid)) throw new IngestError('ERR_BAD_JOB', 'job data has no valid production uuid', { retryable: false });
  const credentials = await deps.credentials(data.owner);
  try {
    return await ingestWith({ ...deps, client: credentials.client }, data, ctx);
  } catch (err) {
    if (isCredentialRefusal(err)) {
      await credentials.rejected(err.message);
      ctx.log.warn({ owner: data.owner }, 'Auphonic refused the credentials');
    }
    throw err;
  }
}

type ClientDeps = IngestDeps & OutputDeps;

/** Output failures that wait on Auphonic, or on settings, not on a transfer: not rendered; storage behind a private address. */
const WAITING_CODES = new Set([NOT_RENDERED, 'ERR_DOWNLOAD_FOREIGN_HOST']);

/** The wait for what Auphonic may still bring has lasted NOT_FINISHED_PATIENCE_MS since the first look. */
const waitedLongEnough = (ctx: IngestContext) => (ctx.waitingForMs ?? 0) >= NOT_FINISHED_PATIENCE_MS;

async function ingestWith(deps: ClientDeps, data: ProductionJobData, ctx: IngestContext): Promise<ProductionJobResult> {
  const { uuid, owner } = data;
  const prefix = productionPrefix(owner, uuid);
  const production = await deps.client.getProduction(uuid, { signal: ctx.signal });
  const status = statusOutcome(production.status);
  if (status === 'running') throw new ProductionRunningError(production.status_string);

  const fp = fingerprint(production);
  const existingRecord = await deps.storage.readJson(recordKey(prefix));
  const existing = asRecord(existingRecord);
  // A forced replay trusts only a record of files all fetched since it was asked for (a retry of it keeps what it
  // stored itself). Not one merely written since: a plain run then may have kept files it had before.
  const forced = data.force === true;
  const trusted = !forced || (existing?.forcedAt != null && existing.forcedAt >= data.receivedAt);
  // What the record's files honour: this replay, or the one a record kept from said so.
  const forcedAt = forced ? data.receivedAt : (existing?.forcedAt ?? null);
  const sameRendering = existing?.fingerprint === fp && trusted ? existing : null;
  if (sameRendering?.final && !sameRendering.outputs.some((o) => o.fate === 'failed')) {
    ctx.log.info('production unchanged since it was stored; nothing to do');
    // Its event again (the same webhook-id: a no-op when queued already), should an earlier attempt have died before queueing it.
    await deps.onRecorded?.({ bridge: sameRendering, production: (existingRecord as { production?: Production }).production ?? null });
    return resultOf(uuid, sameRendering.outputs, 'unchanged');
  }
  if (!trusted) ctx.log.info('replay with force: every file is downloaded and verified again');
  // A replay carries no custom_data: the record keeps the one it has.
  const job = data.customData === undefined && existing ? { ...data, customData: existing.customData } : data;
  const write = async (outputs: OutputRecord[], final: boolean, error: ProductionRecord['bridge']['error'] = null) => {
    const record = await writeRecord(deps.storage, prefix, {
      data: job,
      forcedAt,
      production,
      fp,
      outputs,
      final,
      error,
      publicFilesUrl: deps.publicFilesUrl,
    });
    if (final) await deps.onRecorded?.(record);
    return record;
  };

  if (status === 'error') {
    await write([], true, { code: 'ERR_AUPHONIC_PRODUCTION_ERROR', message: production.error_message || production.status_string });
    ctx.log.info({ error: production.error_message }, 'production ended in error; recorded, nothing downloaded');
    return resultOf(uuid, [], 'error');
  }

  if (production.output_files.length === 0) {
    // Every finished production has at least one output (an MP3): these details are not the whole story yet.
    // Recorded at once (the operator sees why), looked at again as a not-rendered output is, then an error for good.
    const error = { code: 'ERR_NO_OUTPUTS', message: 'Auphonic says the production is done but lists no output files' };
    const final = ctx.lastChance || waitedLongEnough(ctx);
    await write([], final, error);
    if (!final) throw new IngestError('ERR_NO_OUTPUTS', error.message, { retryable: true, waiting: true });
    ctx.log.warn(error.message);
    return resultOf(uuid, [], 'error');
  }
  const previous = new Map(sameRendering?.outputs.map((o) => [o.filename, o]));
  const { marks, times } = chapterMarks(production);
  const taken = new Set(production.output_files.flatMap((o) => (typeof o?.filename === 'string' ? [nameKey(o.filename)] : [])));
  const plan = [
    ...planOutputs(production, { client: deps.client, prefix, verifyChecksums: deps.verifyChecksums }),
    ...planImages(production, marks, { client: deps.client, prefix, taken }),
  ];
  for (const p of plan) {
    if ('decided' in p && p.decided.fate === 'refused')
      ctx.log.warn({ filename: p.decided.filename, code: p.decided.code }, p.decided.reason);
  }
  // Outputs download side by side (DOWNLOAD_CONCURRENCY); slots left idle take ranges of those still running.
  const rangeHelp = new RangeHelp();
  // The longest Retry-After a failed download was answered with: the job's next attempt waits that long.
  let retryAfterMs = 0;
  const outputs = await mapBounded(
    plan,
    deps.downloadConcurrency,
    async (p, signal): Promise<OutputRecord> => {
      if ('decided' in p) return p.decided;
      const { filename, linkIn } = p.download;
      return storeOutput(deps, p.download, previous.get(filename), {
        log: ctx.log,
        signal,
        forced,
        rangeHelp,
        onProgress: (bytes) => ctx.onProgress?.({ filename, bytes, total: p.download.expectedSize }),
        refreshUrl: () => freshUrl(deps, production, fp, linkIn, signal),
        onRetryAfter: (ms) => {
          retryAfterMs = Math.max(retryAfterMs, ms);
        },
      });
    },
    ctx.signal,
    rangeHelp,
  );
  // After the images: chapters.json points at those that were stored.
  if (marks.length > 0) outputs.push(await chaptersOutput(deps, prefix, marks, times, outputs, taken));
  const removed = await removeStaleFiles(deps.storage, existing, outputs);
  if (removed.length > 0) ctx.log.info({ removed }, "removed what the earlier rendering's chapters and cover left");

  const failed = outputs.filter((o) => o.fate === 'failed');
  // Outputs not rendered (or behind storage this worker may not reach) are looked for as long as a production still
  // running is (NOT_FINISHED_PATIENCE_MS, from the first time they were), not for RETRY_FOR: the host hears of what was
  // stored within minutes, not days. They stay failed in the record, so the production's next webhook (or a replay)
  // looks for them again.
  const waiting = failed.length > 0 && failed.every((o) => WAITING_CODES.has(o.code ?? ''));
  const final = failed.length === 0 || ctx.lastChance || (waiting && waitedLongEnough(ctx));
  const record = await write(outputs, final);
  const stored = record.bridge.files;
  const bytes = stored.reduce((sum, f) => sum + f.size, 0);
  if (!final) {
    ctx.log.warn({ failed: failed.map((o) => o.filename) }, 'some outputs failed; recorded, and retried');
    throw new IngestError(
      'ERR_OUTPUTS_FAILED',
      `${failed.length} output(s) failed: ${failed.map((o) => `${o.filename}: ${o.reason}`).join('; ')}`,
      { retryable: true, waiting, ...(retryAfterMs > 0 ? { retryAfterMs } : {}) },
    );
  }
  ctx.log.info({ outcome: record.bridge.outcome, files: stored.length, bytes }, 'production stored');
  return resultOf(uuid, outputs, record.bridge.outcome);
}

/** chapters.json from this rendering's chapters, its images pointing at their stored copies. */
async function chaptersOutput(
  deps: ClientDeps,
  prefix: string,
  marks: ChapterMark[],
  times: ChapterTimes,
  outputs: readonly OutputRecord[],
  taken: ReadonlySet<string>,
): Promise<OutputRecord> {
  if (taken.has(nameKey(CHAPTERS_NAME))) {
    const reason = `one of the production's outputs is named ${CHAPTERS_NAME} already; it keeps the name`;
    return { filename: CHAPTERS_NAME, format: 'json-chapters', kind: 'chapters', fate: 'refused', code: 'ERR_NAME_TAKEN', reason, times };
  }
  const images = new Map(
    outputs.flatMap((o) => (o.kind === 'chapter-image' && o.fate === 'stored' && o.key ? [[o.chapter, o] as const] : [])),
  );
  // Beside chapters.json, a bare name is a relative URL that works wherever the folder is served.
  const img = (mark: ChapterMark) => {
    const image = images.get(mark.number);
    return image?.key ? (publicFileUrl(deps.publicFilesUrl, image.key) ?? image.filename) : null;
  };
  return storeChapters(deps.storage, { key: fileKey(prefix, CHAPTERS_NAME), filename: CHAPTERS_NAME }, jsonChapters(marks, img), times);
}

/** The download link is gone: the production's details carry a new one, unless the production itself changed. */
async function freshUrl(
  deps: ClientDeps,
  before: Production,
  fp: string,
  linkIn: (production: Production) => unknown,
  signal?: AbortSignal,
): Promise<URL> {
  const production = await deps.client.getProduction(before.uuid, { signal });
  if (fingerprint(production) !== fp) throw new ProductionChangedError();
  const link = linkIn(production);
  if (typeof link !== 'string') {
    throw new AuphonicError('ERR_AUPHONIC_NOT_FOUND', 'the output is no longer listed by Auphonic', { retryable: true });
  }
  return deps.client.resolveDownloadUrl(link);
}

/**
 * When the production as a whole could not be handled (its details never
 * came, Auphonic refused the token, the retry budget ran out): a final
 * record that says why, so that the host's system hears of it.
 *
 * - No record yet: one with the error and no files.
 * - A record not final (some outputs failed, to be retried): made final as
 *   it stands, its stored files kept and each failed output's reason with
 *   them, the error beside (outcome `partial`, or `error` with no file).
 * - A final record (an earlier give-up, or this attempt's own record whose
 *   event could not be queued: Redis failing over as the budget ran out):
 *   left as it is, never overwritten by a failure, and its event queued
 *   again, the same webhook-id and body (a no-op when it was queued).
 *
 * Returns the outcome it recorded, or null when it recorded nothing new.
 */
export async function recordFailure(
  storage: StorageDriver,
  data: ProductionJobData,
  err: unknown,
  onRecorded?: IngestDeps['onRecorded'],
): Promise<RecordOutcome | null> {
  const prefix = productionPrefix(data.owner, data.uuid);
  if (!isProductionUuid(data.uuid)) return null;
  // A record that cannot be read now is not taken for none (it may describe files): the error goes up.
  const raw = await storage.readJson(recordKey(prefix));
  const existing = asRecord(raw);
  // Unreadable as a record: not ours to replace.
  if (raw && !existing) return null;
  const production = (raw as { production?: Production | null } | null)?.production ?? null;
  if (existing?.final) {
    await announce(onRecorded, { bridge: existing, production }, null);
    return null;
  }
  const code = (err as { code?: unknown })?.code;
  const record = await writeRecord(storage, prefix, {
    data: data.customData === undefined && existing ? { ...data, customData: existing.customData } : data,
    forcedAt: existing?.forcedAt ?? null,
    production,
    fp: existing?.fingerprint ?? null,
    outputs: existing?.outputs ?? [],
    final: true,
    error: { code: typeof code === 'string' ? code : 'ERR_UNEXPECTED', message: err instanceof Error ? err.message : String(err) },
    publicFilesUrl: null,
  });
  await announce(onRecorded, record, record.bridge.outcome);
  return record.bridge.outcome;
}

/** A give-up's event; failing, it says what was recorded all the same (the caller counts it). */
async function announce(onRecorded: IngestDeps['onRecorded'], record: ProductionRecord, outcome: RecordOutcome | null): Promise<void> {
  try {
    await onRecorded?.(record);
  } catch (err) {
    throw new EventNotQueuedError(outcome, err);
  }
}

async function writeRecord(
  storage: StorageDriver,
  prefix: string,
  r: {
    data: ProductionJobData;
    forcedAt: string | null;
    production: Production | null;
    fp: string | null;
    outputs: OutputRecord[];
    final: boolean;
    error: ProductionRecord['bridge']['error'];
    publicFilesUrl: URL | null;
  },
): Promise<ProductionRecord> {
  // Where the public finds each stored file, when PUBLIC_FILES_URL says.
  const outputs = r.outputs.map((o) => {
    const url = o.fate === 'stored' && o.key ? publicFileUrl(r.publicFilesUrl, o.key) : null;
    return url ? { ...o, url } : o;
  });
  const record: ProductionRecord = {
    bridge: {
      version: 2,
      uuid: r.data.uuid,
      owner: r.data.owner,
      customData: redactCredentials(r.data.customData ?? null),
      // Given up with files stored: partial, the error saying why the rest never came.
      outcome: r.error ? (outputs.some((o) => o.fate === 'stored') ? 'partial' : 'error') : outcomeOf(outputs),
      final: r.final,
      fingerprint: r.fp,
      changeTime: r.production?.change_time ?? null,
      recordedAt: new Date().toISOString(),
      forcedAt: r.forcedAt,
      files: storedFiles(outputs),
      outputs,
      notRendered: outputs.filter((o) => o.fate === 'not_rendered' || o.code === NOT_RENDERED).map((o) => o.filename ?? o.format),
      error: r.error,
    },
    // As fetched, unknown fields kept, but never our webhook secret or another credential.
    production: r.production && redactCredentials(r.production),
  };
  await storage.writeJson(recordKey(prefix), record);
  return record;
}

function resultOf(uuid: string, outputs: readonly OutputRecord[], outcome: ProductionJobResult['outcome']): ProductionJobResult {
  const files = storedFiles(outputs);
  return {
    uuid,
    outcome,
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    stored: files.map((f) => ({ filename: f.filename, format: f.format, kind: f.kind, key: f.key })),
    outputs: outputs.map((o) => ({
      filename: o.filename,
      format: o.format,
      kind: o.kind,
      fate: o.fate,
      ...(o.reason ? { reason: o.reason } : {}),
    })),
  };
}
