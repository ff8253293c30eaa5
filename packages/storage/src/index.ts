export { DirectoryDriver } from './directory-driver.ts';
export type { StorageDriver, Upload } from './driver.ts';
export { StorageError, type StorageErrorCode } from './errors.ts';
export { keySegments } from './keys.ts';
