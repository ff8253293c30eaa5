import { createHash } from 'node:crypto';
import type { Production } from '@auphonic-bridge/auphonic';
import type { Owner } from '@auphonic-bridge/queue';

export interface StoredFile {
  filename: string;
  format: string;
  key: string;
  size: number;
  md5: string;
  /** Whether Auphonic gave a checksum and it matched. */
  checksumVerified: boolean;
}

/** What the worker writes beside the files: its own facts, then the details as fetched. */
export interface ProductionRecord {
  bridge: {
    version: 1;
    uuid: string;
    owner: Owner;
    /** The External Service webhook's custom_data, as it came. */
    customData: unknown;
    outcome: 'stored' | 'error';
    fingerprint: string;
    recordedAt: string;
    files: StoredFile[];
    /** Outputs Auphonic listed without a file yet (filename or download_url null). */
    notRendered: string[];
  };
  production: Production;
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

export function isRecordOf(value: unknown, fp: string): boolean {
  const bridge = (value as Partial<ProductionRecord> | null)?.bridge;
  return bridge?.fingerprint === fp;
}
