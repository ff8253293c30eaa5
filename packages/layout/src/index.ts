export { fileKey, productionPrefix, RECORD_NAME, recordKey } from './layout.ts';
