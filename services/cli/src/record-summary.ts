/**
 * What the operator asks of a production record (auphonic-production.json, as the README
 * documents it): its outcome, whether it is final, and each output's fate with its size or
 * its reason. Read as a reader of the documented format, tolerant of older records.
 */
export function summariseRecord(value: unknown) {
  const bridge = (value as { bridge?: Record<string, unknown> } | null)?.bridge;
  if (!bridge || typeof bridge !== 'object') return null;
  const files = Array.isArray(bridge.files) ? (bridge.files as Array<Record<string, unknown>>) : [];
  // The first records knew only the files they stored.
  const outputs: Array<Record<string, unknown>> = Array.isArray(bridge.outputs)
    ? bridge.outputs
    : files.map((f) => ({ ...f, fate: 'stored' }));
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const size = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    outcome: text(bridge.outcome) ?? 'complete',
    final: bridge.final !== false,
    recorded_at: text(bridge.recordedAt),
    error: (bridge.error as { code: string; message: string } | null | undefined) ?? null,
    outputs: outputs.map((o) => ({
      filename: text(o.filename),
      format: text(o.format) ?? 'unknown',
      fate: text(o.fate) ?? 'unknown',
      size: size(o.size),
      code: text(o.code),
      reason: text(o.reason),
    })),
    files: files.length,
    bytes: files.reduce((sum, f) => sum + (size(f.size) ?? 0), 0),
  };
}

export type RecordSummary = NonNullable<ReturnType<typeof summariseRecord>>;
