export { createStorage, type StorageConfig } from './config.ts';
export { DirectoryDriver } from './directory-driver.ts';
export type { RangeWriter, StorageDriver, Upload } from './driver.ts';
export { StorageError, type StorageErrorCode } from './errors.ts';
export { keySegments } from './keys.ts';
// Types only: importing the S3 driver loads the AWS SDK (createStorage does it when needed).
export type { S3Driver, S3Settings } from './s3-driver.ts';
