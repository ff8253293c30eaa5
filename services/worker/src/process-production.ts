import { createHash } from 'node:crypto';
import {
  type AuphonicClient,
  AuphonicError,
  isProductionUuid,
  isSafeFilename,
  type OutputFile,
  outcomeOf,
  type Production,
} from '@auphonic-bridge/auphonic';
import type { ProductionJobData, ProductionJobResult } from '@auphonic-bridge/queue';
import type { Logger } from '@auphonic-bridge/runtime';
import type { StorageDriver } from '@auphonic-bridge/storage';
import type { Credentials } from './credentials.ts';
import { downloadToStorage } from './download-file.ts';
import { IngestError } from './errors.ts';
import { fingerprint, isRecordOf, type ProductionRecord, type StoredFile } from './record.ts';
import { fileKey, productionPrefix, RECORD_NAME, recordKey } from './storage-layout.ts';

export interface IngestDeps {
  credentials: (owner: ProductionJobData['owner']) => Promise<Credentials>;
  storage: StorageDriver;
  verifyChecksums: boolean;
  downloadResumes: number;
  /** Called with each chunk's size as it is stored (metrics). */
  onBytes?: (bytes: number) => void;
}

export interface IngestContext {
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (progress: { filename: string; bytes: number; total: number | null }) => void;
}

interface PlannedFile {
  output: OutputFile & { filename: string };
  url: URL;
  key: string;
  expectedSize: number | null;
  expectedMd5: string | null;
}

/**
 * One production, from a webhook's word to verified files and a record:
 * the API's status decides (never the webhook's), an unchanged production is
 * not downloaded again, and a re-run one is.
 */
export async function ingestProduction(deps: IngestDeps, data: ProductionJobData, ctx: IngestContext): Promise<ProductionJobResult> {
  if (!isProductionUuid(data.uuid)) throw new IngestError('ERR_BAD_JOB', 'job data has no valid production uuid', { retryable: false });
  const { owner } = data;
  const credentials = await deps.credentials(owner);
  try {
    return await ingestWith({ ...deps, client: credentials.client }, data, ctx);
  } catch (err) {
    if (err instanceof AuphonicError && err.code === 'ERR_AUPHONIC_UNAUTHORIZED') {
      await credentials.rejected(err.message);
      ctx.log.warn({ owner }, 'Auphonic refused the credentials');
    }
    throw err;
  }
}

type ClientDeps = Omit<IngestDeps, 'credentials'> & { client: AuphonicClient };

async function ingestWith(deps: ClientDeps, data: ProductionJobData, ctx: IngestContext): Promise<ProductionJobResult> {
  const { uuid, owner } = data;
  const prefix = productionPrefix(owner, uuid);
  let production = await deps.client.getProduction(uuid, { signal: ctx.signal });
  const outcome = outcomeOf(production.status);
  if (outcome === 'running') {
    throw new IngestError('ERR_PRODUCTION_NOT_FINISHED', `Auphonic says the production is still running (${production.status_string})`, {
      retryable: true,
    });
  }

  const fp = fingerprint(production);
  const existing = await deps.storage.readJson(recordKey(prefix));
  if (isRecordOf(existing, fp)) {
    ctx.log.info('production unchanged since it was stored; nothing to do');
    return { uuid, outcome: 'unchanged', files: 0, bytes: 0, stored: storedOf(existing) };
  }

  if (outcome === 'error') {
    await writeRecord(deps.storage, prefix, {
      uuid,
      owner,
      customData: data.customData,
      outcome: 'error',
      fp,
      production,
      files: [],
      notRendered: [],
    });
    ctx.log.info({ error: production.error_message }, 'production ended in error; recorded, nothing downloaded');
    return { uuid, outcome: 'error-recorded', files: 0, bytes: 0 };
  }

  const files: StoredFile[] = [];
  const { planned, notRendered } = planFiles(deps, production, prefix);
  for (let file of planned) {
    let stored: StoredFile | null;
    try {
      stored = await storeFile(deps, file, ctx);
    } catch (err) {
      if (!(err instanceof AuphonicError && err.code === 'ERR_AUPHONIC_NOT_FOUND')) throw err;
      // A stale download link: the production's details carry a fresh one.
      ctx.log.warn({ filename: file.output.filename }, 'download link gone; fetching the production again');
      production = await deps.client.getProduction(uuid, { signal: ctx.signal });
      const fresh = planFiles(deps, production, prefix).planned.find((f) => f.output.filename === file.output.filename);
      if (!fresh || fingerprint(production) !== fp) {
        throw new IngestError('ERR_PRODUCTION_NOT_FINISHED', 'the production changed while it was being stored', { retryable: true });
      }
      file = fresh;
      stored = await storeFile(deps, file, ctx);
    }
    if (stored) files.push(stored);
  }

  await writeRecord(deps.storage, prefix, {
    uuid,
    owner,
    customData: data.customData,
    outcome: 'stored',
    fp,
    production,
    files,
    notRendered,
  });
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  ctx.log.info({ files: files.length, bytes }, 'production stored');
  return {
    uuid,
    outcome: 'stored',
    files: files.length,
    bytes,
    stored: files.map((f) => ({ filename: f.filename, format: f.format, key: f.key })),
  };
}

function planFiles(deps: ClientDeps, production: Production, prefix: string): { planned: PlannedFile[]; notRendered: string[] } {
  const planned: PlannedFile[] = [];
  const notRendered: string[] = [];
  const seen = new Set<string>();
  for (const output of production.output_files) {
    if (output.filename === null || output.download_url === null || output.filename === undefined || output.download_url === undefined) {
      notRendered.push(output.filename ?? output.format);
      continue;
    }
    const { filename } = output;
    if (!isSafeFilename(filename) || filename === RECORD_NAME) {
      throw new IngestError('ERR_UNSAFE_OUTPUT', `refusing output filename ${JSON.stringify(filename.slice(0, 100))}`, {
        retryable: false,
      });
    }
    if (seen.has(filename)) {
      throw new IngestError('ERR_UNSAFE_OUTPUT', `two outputs share the filename ${JSON.stringify(filename)}`, { retryable: false });
    }
    seen.add(filename);
    const checksum = typeof output.checksum === 'string' && /^[0-9a-f]{32}$/i.test(output.checksum) ? output.checksum : null;
    planned.push({
      output: { ...output, filename },
      url: deps.client.resolveDownloadUrl(output.download_url),
      key: fileKey(prefix, filename),
      expectedSize: Number.isSafeInteger(output.size) && (output.size as number) >= 0 ? (output.size as number) : null,
      expectedMd5: deps.verifyChecksums ? checksum : null,
    });
  }
  return { planned, notRendered };
}

/** Downloads a file unless an earlier attempt already stored exactly these bytes. */
async function storeFile(deps: ClientDeps, file: PlannedFile, ctx: IngestContext): Promise<StoredFile> {
  const { filename } = file.output;
  const log = ctx.log.child({ filename });
  const existing = await alreadyStored(deps.storage, file);
  if (existing) {
    log.info('already stored by an earlier attempt');
    return {
      filename,
      format: file.output.format,
      key: file.key,
      size: existing.size,
      md5: existing.md5,
      checksumVerified: file.expectedMd5 !== null,
    };
  }
  const started = Date.now();
  const result = await downloadToStorage(deps.client, deps.storage, {
    url: file.url,
    key: file.key,
    expectedSize: file.expectedSize,
    expectedMd5: file.expectedMd5,
    maxResumes: deps.downloadResumes,
    onBytes: deps.onBytes,
    signal: ctx.signal,
    log,
    onProgress: (bytes) => ctx.onProgress?.({ filename, bytes, total: file.expectedSize }),
  });
  const seconds = (Date.now() - started) / 1000;
  log.info(
    { bytes: result.size, seconds, commitMs: result.commitMs, mbPerSecond: Math.round(result.size / 1e6 / Math.max(seconds, 0.001)) },
    'file stored',
  );
  return {
    filename,
    format: file.output.format,
    key: file.key,
    size: result.size,
    md5: result.md5,
    checksumVerified: file.expectedMd5 !== null,
  };
}

async function alreadyStored(storage: StorageDriver, file: PlannedFile): Promise<{ size: number; md5: string } | null> {
  const stat = await storage.stat(file.key);
  if (!stat || file.expectedSize === null || stat.size !== file.expectedSize || file.expectedMd5 === null) return null;
  const hash = createHash('md5');
  for await (const chunk of storage.read(file.key)) hash.update(chunk);
  const md5 = hash.digest('hex');
  return md5 === file.expectedMd5.toLowerCase() ? { size: stat.size, md5 } : null;
}

async function writeRecord(
  storage: StorageDriver,
  prefix: string,
  r: {
    uuid: string;
    owner: ProductionJobData['owner'];
    customData: unknown;
    outcome: 'stored' | 'error';
    fp: string;
    production: Production;
    files: StoredFile[];
    notRendered: string[];
  },
): Promise<void> {
  const record: ProductionRecord = {
    bridge: {
      version: 1,
      uuid: r.uuid,
      owner: r.owner,
      customData: r.customData ?? null,
      outcome: r.outcome,
      fingerprint: r.fp,
      recordedAt: new Date().toISOString(),
      files: r.files,
      notRendered: r.notRendered,
    },
    production: r.production,
  };
  await storage.writeJson(recordKey(prefix), record);
}

function storedOf(record: unknown): ProductionJobResult['stored'] {
  const files = (record as Partial<ProductionRecord> | null)?.bridge?.files ?? [];
  return files.map((f) => ({ filename: f.filename, format: f.format, key: f.key }));
}
