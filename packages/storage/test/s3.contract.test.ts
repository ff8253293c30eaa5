import { startS3 } from '@auphonic-bridge/testing';
import { S3Driver } from '../src/s3-driver.ts';
import { describeStorageContract } from './contract.ts';

// Against s3rver, a real S3-protocol server on loopback; part size at S3's 5 MiB minimum
// so that the big object takes several parts.
describeStorageContract(
  's3 (s3rver)',
  async () => {
    const s3 = await startS3();
    const driver = new S3Driver(
      {
        bucket: s3.bucket,
        prefix: 'contract/run',
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        partSize: 5 * 1024 * 1024,
        concurrency: 2,
        timeouts: { connectMs: 5_000, socketMs: 30_000, requestMs: 60_000 },
      },
      { credentials: s3.credentials },
    );
    return { driver, close: () => s3.close() };
  },
  { bigSize: 12 * 1024 * 1024 + 17 },
);
