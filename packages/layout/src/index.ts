export { CHAPTERS_NAME, fileKey, productionPrefix, publicFileUrl, RECORD_NAME, recordKey } from './layout.ts';
