export { CHAPTERS_NAME, fileKey, LAYOUT_ROOTS, nameKey, productionPrefix, publicFileUrl, RECORD_NAME, recordKey } from './layout.ts';
