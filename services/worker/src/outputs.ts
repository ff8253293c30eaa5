import { type AuphonicClient, AuphonicError, isSafeFilename, type OutputFile, type Production } from '@auphonic-bridge/auphonic';
import type { OutputKind, OutputRecord } from './record.ts';
import { fileKey, nameKey, RECORD_NAME } from './storage-layout.ts';

/** The code of an output a finished production lists without a file. */
export const NOT_RENDERED = 'ERR_OUTPUT_NOT_RENDERED';

/** An output to download: where from, where to, and what Auphonic announced of it. */
export interface PlannedDownload {
  filename: string;
  format: string;
  kind: OutputKind;
  /** A chapter image: its chapter's number in chapters.json. */
  chapter?: number;
  url: URL;
  key: string;
  expectedSize: number | null;
  expectedMd5: string | null;
  /** Images: a size cap and the media types taken. */
  limits?: { maxBytes: number; acceptType: (mediaType: string) => boolean };
  /** This output's link in the details of the same rendering fetched again (a fresh link when the old one is gone). */
  linkIn: (production: Production) => unknown;
}

export type PlannedOutput = { download: PlannedDownload } | { decided: OutputRecord };

/**
 * Decides what can be decided without a byte: an output not rendered yet
 * (failed: the job looks again until its last chance, then says which were
 * never rendered), one whose name is unsafe or taken twice, one whose
 * download_url is off Auphonic's host (refused for good, with the reason).
 * Each output on its own: one bad output never keeps the others from being stored.
 */
export function planOutputs(
  production: Production,
  opts: { client: AuphonicClient; prefix: string; verifyChecksums: boolean },
): PlannedOutput[] {
  const names = new Map<string, number>();
  // By nameKey: 'Take.mp3' and 'take.mp3' are one file on some storage.
  for (const o of production.output_files) {
    if (typeof o?.filename === 'string') names.set(nameKey(o.filename), (names.get(nameKey(o.filename)) ?? 0) + 1);
  }
  return production.output_files.map((output, i): PlannedOutput => {
    // An entry that is not an object (null, a string) names nothing to fetch: said as such, the others go on.
    if (typeof output !== 'object' || output === null) {
      const reason = `output_files[${i}] of Auphonic's answer is ${output === null ? 'null' : `a ${typeof output}`}, not an output`;
      return { decided: { filename: null, format: 'unknown', kind: 'audio', fate: 'refused', code: 'ERR_AUPHONIC_BAD_RESPONSE', reason } };
    }
    const format = typeof output.format === 'string' ? output.format : 'unknown';
    const { filename, download_url: downloadUrl } = output;
    if (typeof filename !== 'string' || typeof downloadUrl !== 'string') {
      // Done, yet listed without a file: Auphonic sends no second webhook when it comes, so it is looked for again.
      return {
        decided: {
          filename: typeof filename === 'string' ? filename : null,
          format,
          kind: 'audio',
          fate: 'failed',
          code: NOT_RENDERED,
          reason: 'Auphonic lists this output without a file (its filename or download_url is null): not rendered',
        },
      };
    }
    const refuse = (code: string, reason: string): PlannedOutput => ({
      decided: { filename, format, kind: 'audio', fate: 'refused', code, reason },
    });
    if (!isSafeFilename(filename) || nameKey(filename) === nameKey(RECORD_NAME)) {
      return refuse('ERR_UNSAFE_OUTPUT', `refusing output filename ${JSON.stringify(filename.slice(0, 100))}: not a plain file name`);
    }
    if ((names.get(nameKey(filename)) ?? 0) > 1) {
      const reason = `several outputs share the filename ${JSON.stringify(filename)} (letter case and Unicode form aside: one file on some storage)`;
      return refuse('ERR_UNSAFE_OUTPUT', reason);
    }
    const url = auphonicLink(opts.client, downloadUrl);
    if ('code' in url) return refuse(url.code, url.reason);
    return {
      download: {
        filename,
        format,
        kind: 'audio',
        url,
        key: fileKey(opts.prefix, filename),
        expectedSize: announcedSize(output),
        expectedMd5: opts.verifyChecksums ? announcedMd5(output) : null,
        linkIn: (fresh) => fresh.output_files.find((o) => o?.filename === filename)?.download_url,
      },
    };
  });
}

/** A link our token may follow: on Auphonic's own origin; anything else is refused for good, with why. */
export function auphonicLink(client: AuphonicClient, link: string): URL | { code: string; reason: string } {
  try {
    return client.resolveDownloadUrl(link);
  } catch (err) {
    if (err instanceof AuphonicError) return { code: err.code, reason: err.message };
    throw err;
  }
}

/** 0 with a checksum is taken for "not known yet" (the checksum still verifies the bytes, an empty file's too). */
function announcedSize(output: OutputFile): number | null {
  if (!Number.isSafeInteger(output.size) || (output.size as number) < 0) return null;
  if (output.size === 0 && announcedMd5(output) !== null) return null;
  return output.size as number;
}

function announcedMd5(output: OutputFile): string | null {
  return typeof output.checksum === 'string' && /^[0-9a-f]{32}$/i.test(output.checksum) ? output.checksum.toLowerCase() : null;
}
