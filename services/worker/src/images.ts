import type { AuphonicClient, Production } from '@auphonic-bridge/auphonic';
import { type ChapterMark, chapterMarks } from './chapter-marks.ts';
import { auphonicLink, type PlannedOutput } from './outputs.ts';
import type { OutputKind } from './record.ts';
import { fileKey, nameKey } from './storage-layout.ts';

/** Artwork is a few MB at most; anything near this is not a cover. */
export const IMAGE_MAX_BYTES = 20 * 1024 * 1024;

/** Any image, but SVG: it can carry scripts, which run wherever the host serves it from. */
export function isWantedImage(mediaType: string): boolean {
  // Object storage often serves an upload under a generic type: its bytes are the image all the same (an error page comes with an error status).
  if (GENERIC_TYPES.has(mediaType)) return true;
  return mediaType.startsWith('image/') && mediaType !== 'image/svg+xml';
}

const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream']);

const IMAGE_ENDINGS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'avif', 'heic', 'bmp', 'tif', 'tiff']);

/**
 * The ending of the link's last segment when it names an image format
 * (Auphonic's links end in the uploaded file's name); otherwise jpg, what
 * covers mostly are. The record keeps the media type the source gave.
 */
export function imageEnding(link: string): string {
  const path = URL.canParse(link, 'http://x') ? new URL(link, 'http://x').pathname : '';
  const ending = /\.([A-Za-z0-9]{1,5})$/.exec(path)?.[1]?.toLowerCase();
  return ending && IMAGE_ENDINGS.has(ending) ? ending : 'jpg';
}

/**
 * The cover (`image`) and each chapter's image, as downloads beside the
 * audio: `cover.<ext>` and `chapter-<n>.<ext>`, n the chapter's number in
 * chapters.json. They come from Auphonic's origin with our token, like the
 * audio (a link elsewhere is refused), capped and checked to be images.
 * A name one of Auphonic's outputs already has is left to that output.
 */
export function planImages(
  production: Production,
  marks: readonly ChapterMark[],
  // `taken`: the outputs' names, by nameKey.
  opts: { client: AuphonicClient; prefix: string; taken: ReadonlySet<string> },
): PlannedOutput[] {
  const wanted: Array<{ kind: OutputKind; chapter?: number; link: string; name: string; linkIn: (p: Production) => unknown }> = [];
  if (typeof production.image === 'string' && production.image) {
    wanted.push({ kind: 'cover', link: production.image, name: 'cover', linkIn: (p) => p.image });
  }
  for (const mark of marks) {
    if (!mark.image) continue;
    const n = mark.number;
    wanted.push({
      kind: 'chapter-image',
      chapter: n,
      link: mark.image,
      name: `chapter-${n}`,
      linkIn: (p) => chapterMarks(p).marks[n - 1]?.image,
    });
  }
  return wanted.map(({ kind, chapter, link, name, linkIn }): PlannedOutput => {
    const filename = `${name}.${imageEnding(link)}`;
    const which = { filename, format: 'image', kind, ...(chapter ? { chapter } : {}) };
    const url = auphonicLink(opts.client, link);
    if ('code' in url) return { decided: { ...which, fate: 'refused', code: url.code, reason: url.reason } };
    if (opts.taken.has(nameKey(filename))) {
      const reason = `one of the production's outputs is named ${filename} already; it keeps the name`;
      return { decided: { ...which, fate: 'refused', code: 'ERR_NAME_TAKEN', reason } };
    }
    return {
      download: {
        ...which,
        url,
        key: fileKey(opts.prefix, filename),
        // Auphonic announces neither size nor checksum of an image.
        expectedSize: null,
        expectedMd5: null,
        limits: { maxBytes: IMAGE_MAX_BYTES, acceptType: isWantedImage },
        linkIn,
      },
    };
  });
}
