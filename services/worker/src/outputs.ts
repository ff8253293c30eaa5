import { type AuphonicClient, AuphonicError, isSafeFilename, type OutputFile, type Production } from '@auphonic-bridge/auphonic';
import type { OutputRecord } from './record.ts';
import { fileKey, RECORD_NAME } from './storage-layout.ts';

/** An output to download: where from, where to, and what Auphonic announced of it. */
export interface PlannedDownload {
  filename: string;
  format: string;
  url: URL;
  key: string;
  expectedSize: number | null;
  expectedMd5: string | null;
}

export type PlannedOutput = { download: PlannedDownload } | { decided: OutputRecord };

/**
 * Decides what can be decided without a byte: an output not rendered yet, one
 * whose name is unsafe or taken twice, one whose download_url is off
 * Auphonic's host (refused for good, with the reason). Each output on its
 * own: one bad output never keeps the others from being stored.
 */
export function planOutputs(
  production: Production,
  opts: { client: AuphonicClient; prefix: string; verifyChecksums: boolean },
): PlannedOutput[] {
  const names = new Map<string, number>();
  for (const o of production.output_files) if (typeof o.filename === 'string') names.set(o.filename, (names.get(o.filename) ?? 0) + 1);
  return production.output_files.map((output): PlannedOutput => {
    const format = typeof output.format === 'string' ? output.format : 'unknown';
    const { filename, download_url: downloadUrl } = output;
    if (typeof filename !== 'string' || typeof downloadUrl !== 'string') {
      return { decided: { filename: typeof filename === 'string' ? filename : null, format, fate: 'not_rendered' } };
    }
    const refuse = (code: string, reason: string): PlannedOutput => ({ decided: { filename, format, fate: 'refused', code, reason } });
    if (!isSafeFilename(filename) || filename === RECORD_NAME) {
      return refuse('ERR_UNSAFE_OUTPUT', `refusing output filename ${JSON.stringify(filename.slice(0, 100))}: not a plain file name`);
    }
    if ((names.get(filename) ?? 0) > 1)
      return refuse('ERR_UNSAFE_OUTPUT', `several outputs share the filename ${JSON.stringify(filename)}`);
    let url: URL;
    try {
      url = opts.client.resolveDownloadUrl(downloadUrl);
    } catch (err) {
      if (err instanceof AuphonicError) return refuse(err.code, err.message);
      throw err;
    }
    return {
      download: {
        filename,
        format,
        url,
        key: fileKey(opts.prefix, filename),
        expectedSize: announcedSize(output),
        expectedMd5: opts.verifyChecksums ? announcedMd5(output) : null,
      },
    };
  });
}

function announcedSize(output: OutputFile): number | null {
  return Number.isSafeInteger(output.size) && (output.size as number) >= 0 ? (output.size as number) : null;
}

function announcedMd5(output: OutputFile): string | null {
  return typeof output.checksum === 'string' && /^[0-9a-f]{32}$/i.test(output.checksum) ? output.checksum.toLowerCase() : null;
}
