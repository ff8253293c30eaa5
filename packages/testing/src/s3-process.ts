// s3rver in a process of its own (startS3Process): prints its TestS3 as one JSON line, closes on SIGTERM.
import { startS3 } from './s3-server.ts';

const s3 = await startS3(process.argv[2]);
const { close: _close, ...shown } = s3;
process.stdout.write(`${JSON.stringify(shown)}\n`);
process.once('SIGTERM', () => {
  void s3.close().finally(() => process.exit(0));
});
