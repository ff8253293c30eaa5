// Where the worker writes is where the CLI reads: the layout is packages/layout's.
export { fileKey, productionPrefix, RECORD_NAME, recordKey } from '@auphonic-bridge/layout';
