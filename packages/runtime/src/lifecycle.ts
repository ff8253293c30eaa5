import type { Logger } from 'pino';
import { ConfigError } from './errors.ts';

export interface Service {
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export interface Built {
  service: Service;
  logger: Logger;
  /** After SIGTERM, the process exits by this deadline even if destroy() hangs. */
  stopDeadlineMs?: number;
}

/**
 * The whole of a service's main(): build the service from validated config,
 * start it, and destroy it once on SIGTERM/SIGINT, within a deadline. A bad
 * setting exits 78 (EX_CONFIG) with the message naming it, before anything starts.
 */
export async function runService(build: () => Built | Promise<Built>): Promise<void> {
  let built: Built;
  try {
    built = await build();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const { service, logger } = built;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      logger.flush();
      process.exit(1);
    }, built.stopDeadlineMs ?? 15_000).unref();
    try {
      await service.destroy();
      logger.info('stopped');
      logger.flush();
      process.exitCode = 0;
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      logger.flush();
      process.exitCode = 1;
    }
    // Handles that outlive destroy() (a socket closing) must not keep the process up.
    setTimeout(() => process.exit(), 100).unref();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  try {
    await service.start();
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    logger.flush();
    process.exit(1);
  }
}
