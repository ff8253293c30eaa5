import type { Owner } from '@auphonic-bridge/queue';

/** The production record sits beside the files; no output may take its name. */
export const RECORD_NAME = 'auphonic-production.json';

/** One prefix per owner, then the uuid: `account/<uuid>` or `connections/<id>/<uuid>`. */
export function productionPrefix(owner: Owner, uuid: string): string {
  return owner.kind === 'account' ? `account/${uuid}` : `connections/${owner.id}/${uuid}`;
}

export const fileKey = (prefix: string, filename: string) => `${prefix}/${filename}`;
export const recordKey = (prefix: string) => `${prefix}/${RECORD_NAME}`;
