// node --test --import: a test file whose tests are all done ends within a minute, even when
// something it started (a service, a server, a client) still holds its event loop; the
// services it spawned are then killed by packages/testing's exit hook. Not --test-force-exit:
// that exits the moment the last test ends, before the file's results have all reached the
// runner, which then counts fewer tests and still passes (nodejs/node#64833; seen here, 1952
// of 2000). A minute later they have long arrived, and the file's own after hooks have run.
import { after } from 'node:test';

// TEST_EXIT_GRACE_MS: shorter for this file's own test (test/exit-watchdog.test.ts).
const GRACE_MS = Number(process.env.TEST_EXIT_GRACE_MS ?? 60_000);

// Only in a test file's process: imported by anything else, after() would start a test run.
if (process.env.NODE_TEST_CONTEXT) {
  after(() => {
    // Unref'd: a file that ends on its own ends at once.
    setTimeout(() => {
      process.stderr.write(
        `exit-watchdog: tests done ${GRACE_MS / 1000} s ago, but something still holds this file's process: ending it\n`,
      );
      process.exit();
    }, GRACE_MS).unref();
  });
}
