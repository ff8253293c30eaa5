/** As GET /api/info/production_status.json names them. */
export const STATUS_STRINGS: Record<number, string> = {
  0: 'File Upload',
  1: 'Waiting',
  2: 'Error',
  3: 'Done',
  4: 'Audio Processing',
  5: 'Audio Encoding',
  6: 'Outgoing File Transfer',
  7: 'Audio Mono Mixdown',
  8: 'Split Audio On Chapter Marks',
  9: 'Incomplete Form',
  10: 'Production Not Started Yet',
  11: 'Production Outdated',
  12: 'Incoming File Transfer',
  13: 'Stopping the Production',
  14: 'Speech Recognition',
};

export const STATUS_ERROR = 2;
export const STATUS_DONE = 3;

export function statusString(status: number): string {
  return STATUS_STRINGS[status] ?? 'Unknown';
}

/** The info endpoint's shape: keys are strings. */
export function statusInfo(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [code, name] of Object.entries(STATUS_STRINGS)) out[String(code)] = name;
  return out;
}
