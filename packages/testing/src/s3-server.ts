import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
// s3rver ships no types; this is the little of it the tests use.
// @ts-expect-error untyped CommonJS module
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver's account: the only credentials it accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Its process, when it runs in one of its own (startS3Process). */
  pid?: number;
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

/**
 * The same in a process of its own, as a real S3 is another machine's: a benchmark's S3 then
 * does not share an event loop with its Auphonic simulator (s3rver hashes every byte it takes).
 */
export async function startS3Process(bucket = 'bridge-test'): Promise<TestS3> {
  const child = spawn(process.execPath, [new URL('./s3-process.ts', import.meta.url).pathname, bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    exited.then(([code]) => {
      throw new Error(`s3rver exited (${code}) before it was ready`);
    }),
  ]);
  lines.close();
  const shown = JSON.parse(first) as Omit<TestS3, 'close'>;
  return {
    ...shown,
    pid: child.pid,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
