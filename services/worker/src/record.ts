import { createHash } from 'node:crypto';
import type { Production } from '@auphonic-bridge/auphonic';
import type { Owner } from '@auphonic-bridge/queue';

/** What became of one of the production's outputs. */
export type OutputFate = 'stored' | 'not_rendered' | 'refused' | 'failed';

export interface OutputRecord {
  /** null for an output Auphonic has not named yet. */
  filename: string | null;
  format: string;
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
}

export interface StoredFile {
  filename: string;
  format: string;
  key: string;
  size: number;
  md5: string;
  /** Whether Auphonic gave a checksum and it matched. */
  checksumVerified: boolean;
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

/**
 * Identifies one rendering of a production: a re-run changes change_time or
 * its outputs, and then the production is processed again.
 */
export function fingerprint(p: Production): string {
  const outputs = p.output_files.map((f) => [f.filename, f.size ?? null, f.checksum ?? null, f.download_url]);
  return createHash('sha256')
    .update(JSON.stringify([p.status, p.change_time ?? null, outputs]))
    .digest('hex');
}

/** A record read back from storage, when it is one of ours (older versions included). */
export function asRecord(value: unknown): ProductionRecord['bridge'] | null {
  const bridge = (value as { bridge?: Partial<ProductionRecord['bridge']> } | null)?.bridge;
  if (!bridge || typeof bridge !== 'object' || typeof bridge.uuid !== 'string') return null;
  // Version 1 knew only finished records of stored files.
  const outputs = Array.isArray(bridge.outputs) ? bridge.outputs : (bridge.files ?? []).map((f) => ({ ...f, fate: 'stored' as const }));
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
    files: bridge.files ?? [],
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
      key: o.key,
      size: o.size,
      md5: o.md5,
      checksumVerified: o.checksumVerified ?? false,
    }));
}
