import type { Owner } from '@auphonic-bridge/queue';

/** The production record sits beside the files; no output may take its name. */
export const RECORD_NAME = 'auphonic-production.json';
/** The chapters in the Podcasting 2.0 JSON Chapters format, beside the audio. */
export const CHAPTERS_NAME = 'chapters.json';

/** Where every key of the layout begins (a sweep of abandoned uploads looks there only). */
export const LAYOUT_ROOTS = ['account', 'connections'] as const;

/** One prefix per owner, then the uuid: `account/<uuid>` or `connections/<id>/<uuid>`. */
export function productionPrefix(owner: Owner, uuid: string): string {
  return owner.kind === 'account' ? `account/${uuid}` : `connections/${owner.id}/${uuid}`;
}

export const fileKey = (prefix: string, filename: string) => `${prefix}/${filename}`;

/**
 * A file name as a case-insensitive or normalising file system (macOS, SMB, some S3-compatible
 * stores) sees it: two names of one key are one file there, so the worker takes them for one.
 */
export const nameKey = (name: string) => name.normalize('NFC').toLowerCase();
export const recordKey = (prefix: string) => `${prefix}/${RECORD_NAME}`;

/** Where the public finds a stored key under PUBLIC_FILES_URL (each segment URL-encoded); null when it is not set. */
export function publicFileUrl(base: URL | null, key: string): string | null {
  if (!base) return null;
  return `${base.toString().replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
