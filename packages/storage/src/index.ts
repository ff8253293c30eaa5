export { createStorage, readStorageConfig, type StorageConfig } from './config.ts';
export { DirectoryDriver } from './directory-driver.ts';
export type { StorageDriver, Upload } from './driver.ts';
export { StorageError, type StorageErrorCode } from './errors.ts';
export { keySegments } from './keys.ts';
export { S3Driver, type S3Settings } from './s3-driver.ts';
