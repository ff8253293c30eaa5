export { CHAPTERS_NAME, fileKey, LAYOUT_ROOTS, productionPrefix, publicFileUrl, RECORD_NAME, recordKey } from './layout.ts';
