import type { Owner } from '@auphonic-bridge/queue';

/** The production record sits beside the files; no output may take its name. */
export const RECORD_NAME = 'auphonic-production.json';

/** `account/<uuid>` for the API-key account: one prefix per owner, then the uuid. */
export function productionPrefix(owner: Owner, uuid: string): string {
  return `${owner.kind}/${uuid}`;
}

export const fileKey = (prefix: string, filename: string) => `${prefix}/${filename}`;
export const recordKey = (prefix: string) => `${prefix}/${RECORD_NAME}`;
