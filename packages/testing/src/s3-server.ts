import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; this is the little of it the tests use.
// @ts-expect-error untyped CommonJS module
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver's account: the only credentials it accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) on loopback for one test file, with one
 * bucket, files in a temporary directory. It does not implement every call
 * (e.g. not ListMultipartUploads); the README says what was tested where.
 */
export async function startS3(bucket = 'bridge-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'bridge-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
