import { createHash } from 'node:crypto';
import type { StorageDriver } from '@auphonic-bridge/storage';
import type { ChapterMark } from './chapter-marks.ts';
import { outputFailure } from './fate.ts';
import type { ChapterTimes, OutputRecord } from './record.ts';

/** The Podcasting 2.0 JSON Chapters format (podcastindex `podcast:chapters`), the version we write. */
export const JSON_CHAPTERS_VERSION = '1.2.0';

export interface JsonChapters {
  version: string;
  chapters: Array<{ startTime: number; title?: string; img?: string; url?: string }>;
}

/** The document; `img` is the stored copy of a chapter's image, when it was stored. */
export function jsonChapters(marks: readonly ChapterMark[], img: (mark: ChapterMark) => string | null): JsonChapters {
  return {
    version: JSON_CHAPTERS_VERSION,
    chapters: marks.map((mark) => {
      const image = img(mark);
      return {
        startTime: mark.startTime,
        ...(mark.title ? { title: mark.title } : {}),
        ...(image ? { img: image } : {}),
        ...(mark.url ? { url: mark.url } : {}),
      };
    }),
  };
}

/**
 * Writes chapters.json whole, visible only once complete (an upload, like
 * every file), to its fate. It is written anew on every attempt: cheap,
 * and an image stored since gets its `img`.
 */
export async function storeChapters(
  storage: StorageDriver,
  target: { key: string; filename: string },
  document: JsonChapters,
  times: ChapterTimes,
): Promise<OutputRecord> {
  const which = { filename: target.filename, format: 'json-chapters', kind: 'chapters' as const, times };
  const bytes = Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
  try {
    const upload = await storage.createUpload(target.key);
    try {
      await upload.write(bytes);
      await upload.commit();
    } finally {
      await upload.abort();
    }
  } catch (err) {
    return { ...which, ...outputFailure(err, undefined) };
  }
  const md5 = createHash('md5').update(bytes).digest('hex');
  return { ...which, fate: 'stored', key: target.key, size: bytes.length, md5, checksumVerified: false };
}
