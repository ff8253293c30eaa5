import { createHash } from 'node:crypto';
import type { Production } from '@auphonic-bridge/auphonic';
import type { OutputKind, Owner } from '@auphonic-bridge/queue';

/** What became of one of the production's outputs. */
export type OutputFate = 'stored' | 'not_rendered' | 'refused' | 'failed';

/**
 * audio: one of Auphonic's output_files (subtitles and the like included);
 * cover: the production's `image`; chapter-image: a chapter's `image`;
 * chapters: chapters.json, which the bridge writes from the chapters.
 */
export type { OutputKind };

export interface OutputRecord {
  /** null for an output Auphonic has not named yet. */
  filename: string | null;
  format: string;
  kind: OutputKind;
  fate: OutputFate;
  /** Stored: where, how big, its MD5, and whether Auphonic's checksum confirmed it. */
  key?: string;
  size?: number;
  md5?: string;
  checksumVerified?: boolean;
  /** Refused (for good) or failed (retried): a stable code and a reason for a person. */
  code?: string;
  reason?: string;
  /** Failed on size or checksum: what the bytes received really were. */
  received?: { size: number; md5: string | null };
  /** Stored, when PUBLIC_FILES_URL is set: where the public finds it. */
  url?: string;
  /** A stored image: the media type its source gave (its name's ending is only a guess). */
  mediaType?: string;
  /** A chapter image: its chapter, numbered from 1 in the order of chapters.json. */
  chapter?: number;
  /** chapters.json: whose times it holds (see ChapterTimes). */
  times?: ChapterTimes;
}

/**
 * Where chapters.json's times came from: Auphonic's output times
 * (`start_output_sec`, true to the cut files), or, for the chapters listed,
 * the input times (`start_sec`) because the output time was absent; and
 * the chapters left out for having no time at all (positions in Auphonic's list).
 */
export interface ChapterTimes {
  from: 'output' | 'input' | 'mixed';
  inputTimes: number[];
  leftOut: number[];
}

export interface StoredFile {
  filename: string;
  format: string;
  kind: OutputKind;
  key: string;
  size: number;
  md5: string;
  /** Whether Auphonic gave a checksum and it matched. */
  checksumVerified: boolean;
  url?: string;
  mediaType?: string;
  chapter?: number;
}

/** complete: every rendered output stored. partial: some stored, some not. error: Auphonic's error, or nothing storable. */
export type RecordOutcome = 'complete' | 'partial' | 'error';

/** What the worker writes beside the files: its own facts, then the details as fetched (credentials redacted). */
export interface ProductionRecord {
  bridge: {
    version: 2;
    uuid: string;
    owner: Owner;
    /** The External Service webhook's custom_data, as it came. */
    customData: unknown;
    outcome: RecordOutcome;
    /** false while failed outputs are still being retried; true once nothing more will happen to this rendering. */
    final: boolean;
    fingerprint: string | null;
    /** The production's change_time when recorded: the reconciler's quick test for "already handled". */
    changeTime: string | null;
    recordedAt: string;
    /**
     * The time of the replay with force (`bridge replay --force`) that every stored file here was
     * fetched since, when one was: a forced replay trusts no record without one as late as its own.
     */
    forcedAt: string | null;
    /** The stored outputs (the same as `outputs` with fate "stored"). */
    files: StoredFile[];
    /** Every output Auphonic listed, with its fate and, when it was not stored, why. */
    outputs: OutputRecord[];
    /** Outputs Auphonic listed without a file yet (filename or download_url null). */
    notRendered: string[];
    /** Why the production as a whole failed, when it did. */
    error: { code: string; message: string } | null;
  };
  production: Production | null;
}

const CHAPTER_FIELDS = ['title', 'url', 'image', 'start', 'start_sec', 'start_output', 'start_output_sec'] as const;

/**
 * Identifies one rendering of a production: a re-run changes change_time,
 * its outputs, its chapters or its cover, and then the production is
 * processed again. Without chapters and cover it is what it was before they
 * counted, so records of such productions stay "unchanged".
 */
export function fingerprint(p: Production): string {
  // An entry may be malformed (null): it counts as what it is.
  const outputs = p.output_files.map((f) =>
    f && typeof f === 'object' ? [f.filename, f.size ?? null, f.checksum ?? null, f.download_url] : f,
  );
  const parts: unknown[] = [p.status, p.change_time ?? null, outputs];
  // What chapters.json and the images are made of, no more: a field Auphonic adds some day changes nothing.
  const chapters = (Array.isArray(p.chapters) ? (p.chapters as Array<Record<string, unknown> | null>) : []).map((c) =>
    CHAPTER_FIELDS.map((field) => c?.[field] ?? null),
  );
  const image = typeof p.image === 'string' && p.image ? p.image : null;
  if (chapters.length > 0 || image) parts.push({ image, chapters });
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** A record read back from storage, when it is one of ours (older versions included). */
export function asRecord(value: unknown): ProductionRecord['bridge'] | null {
  const bridge = (value as { bridge?: Partial<ProductionRecord['bridge']> } | null)?.bridge;
  if (!bridge || typeof bridge !== 'object' || typeof bridge.uuid !== 'string') return null;
  // Version 1 knew only finished records of stored files; records before chapters and images knew only audio.
  const outputs = (
    Array.isArray(bridge.outputs) ? bridge.outputs : (bridge.files ?? []).map((f) => ({ ...f, fate: 'stored' as const }))
  ).map((o) => ({ ...o, kind: o.kind ?? 'audio' }));
  return {
    version: 2,
    uuid: bridge.uuid,
    owner: bridge.owner ?? { kind: 'account' },
    customData: bridge.customData ?? null,
    outcome: bridge.outcome === 'partial' || bridge.outcome === 'error' ? bridge.outcome : 'complete',
    final: bridge.final ?? true,
    fingerprint: bridge.fingerprint ?? null,
    changeTime: bridge.changeTime ?? (value as { production?: { change_time?: string } }).production?.change_time ?? null,
    recordedAt: bridge.recordedAt ?? '',
    forcedAt: bridge.forcedAt ?? null,
    files: (bridge.files ?? []).map((f) => ({ ...f, kind: f.kind ?? 'audio' })),
    outputs,
    notRendered: bridge.notRendered ?? [],
    error: bridge.error ?? null,
  };
}

/** The outcome of a production whose every output has a fate. */
export function outcomeOf(outputs: readonly OutputRecord[]): RecordOutcome {
  const stored = outputs.filter((o) => o.fate === 'stored').length;
  const missing = outputs.filter((o) => o.fate === 'refused' || o.fate === 'failed').length;
  if (missing === 0) return 'complete';
  return stored > 0 ? 'partial' : 'error';
}

export function storedFiles(outputs: readonly OutputRecord[]): StoredFile[] {
  return outputs
    .filter((o): o is OutputRecord & { filename: string; key: string; size: number; md5: string } => o.fate === 'stored')
    .map((o) => ({
      filename: o.filename,
      format: o.format,
      kind: o.kind,
      key: o.key,
      size: o.size,
      md5: o.md5,
      checksumVerified: o.checksumVerified ?? false,
      ...(o.url ? { url: o.url } : {}),
      ...(o.mediaType ? { mediaType: o.mediaType } : {}),
      ...(o.chapter ? { chapter: o.chapter } : {}),
    }));
}
