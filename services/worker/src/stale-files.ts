import type { StorageDriver } from '@auphonic-bridge/storage';
import type { OutputKind, OutputRecord, ProductionRecord } from './record.ts';

/** What the bridge makes of a production's chapters and cover, not Auphonic's own outputs. */
const DERIVED: ReadonlySet<OutputKind> = new Set(['cover', 'chapter-image', 'chapters']);

/**
 * Keys an earlier rendering stored from its chapters or cover that this
 * rendering has no output for (fewer chapters, a cover now a .jpg, no
 * chapters at all): removed, so that the folder holds what the record says.
 * Auphonic's own outputs are left alone, as before.
 */
export async function removeStaleFiles(
  storage: StorageDriver,
  earlier: ProductionRecord['bridge'] | null,
  now: readonly OutputRecord[],
): Promise<string[]> {
  const planned = new Set(now.flatMap((o) => (o.filename ? [o.filename] : [])));
  const stale = (earlier?.outputs ?? []).filter(
    (o): o is OutputRecord & { key: string; filename: string } =>
      DERIVED.has(o.kind) && o.fate === 'stored' && typeof o.key === 'string' && typeof o.filename === 'string' && !planned.has(o.filename),
  );
  for (const o of stale) await storage.remove(o.key);
  return stale.map((o) => o.key);
}
