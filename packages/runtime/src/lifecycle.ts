import type { Logger } from 'pino';
import { ConfigError } from './errors.ts';

export interface Service {
  start(): Promise<void>;
  /** Lets go of everything the service holds; once it resolves, nothing of it keeps the process up. */
  destroy(): Promise<void>;
}

/** EX_CONFIG: a setting is missing or malformed. */
export const EXIT_CONFIG = 78;

/**
 * The whole of a service's main(): build the service from validated config,
 * start it, and destroy it once on SIGTERM or SIGINT, or after an error that
 * nothing caught (an unhandled rejection, an uncaught exception). The
 * process then ends by itself when its event loop drains, with `exitCode`
 * set; only if it has not ended by `stopDeadlineMs` is it ended, naming what
 * still holds it (a leak is reported, not hidden). A bad setting exits 78
 * with the message naming it, before anything starts, or when start() finds
 * one that does not fit (a ConfigError): then once the service is destroyed.
 */
export async function runService(
  build: () =>
    | { service: Service; logger: Logger; stopDeadlineMs?: number }
    | Promise<{ service: Service; logger: Logger; stopDeadlineMs?: number }>,
): Promise<void> {
  let built: Awaited<ReturnType<typeof build>>;
  try {
    built = await build();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = EXIT_CONFIG;
      return;
    }
    throw err;
  }
  const { service, logger } = built;
  const deadlineMs = built.stopDeadlineMs ?? 15_000;
  let stopping = false;
  const stop = async (why: { signal?: string; err?: unknown; config?: ConfigError }) => {
    if (stopping) {
      if (why.signal) process.exit(1); // a second signal: the operator insists
      return;
    }
    stopping = true;
    if (why.err) logger.fatal({ err: why.err }, 'unexpected error; shutting down');
    else if (!why.config) logger.info({ signal: why.signal }, 'shutting down');
    process.exitCode = why.config ? EXIT_CONFIG : why.err ? 1 : 0;
    // Unref'd: it ends the process only if something else still holds it.
    setTimeout(() => {
      logger.error({ holding: process.getActiveResourcesInfo() }, 'shutdown deadline passed; exiting');
      logger.flush();
      process.exit(1);
    }, deadlineMs).unref();
    try {
      await service.destroy();
      logger.info('stopped');
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exitCode = 1;
    }
    logger.flush();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop({ signal }));
  process.on('unhandledRejection', (err) => void stop({ err }));
  process.on('uncaughtException', (err) => void stop({ err }));
  try {
    await service.start();
  } catch (err) {
    // A setting that does not fit what the service meets at start (the storage, Redis's version): as a bad setting.
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      await stop({ config: err });
      return;
    }
    logger.fatal({ err }, 'failed to start');
    await stop({ err });
  }
}
