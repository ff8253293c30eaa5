// Where the worker writes is where the CLI reads: the layout is packages/layout's.
export { CHAPTERS_NAME, fileKey, nameKey, productionPrefix, publicFileUrl, RECORD_NAME, recordKey } from '@auphonic-bridge/layout';
