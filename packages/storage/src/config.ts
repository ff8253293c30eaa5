import { DirectoryDriver } from './directory-driver.ts';
import type { StorageDriver } from './driver.ts';
import type { S3Settings } from './s3-driver.ts';

/** Which driver, with its settings (read by the service that uses it: this package reads no environment). */
export type StorageConfig = { kind: 'directory'; path: string } | ({ kind: 's3' } & S3Settings);

/** The AWS SDK is loaded only for S3 (it costs a directory-only worker some 30 MB). */
export async function createStorage(config: StorageConfig): Promise<StorageDriver> {
  if (config.kind === 'directory') return new DirectoryDriver(config.path);
  const { kind: _kind, ...settings } = config;
  const { S3Driver } = await import('./s3-driver.ts');
  return new S3Driver(settings);
}
