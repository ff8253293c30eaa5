// First: sets the thread pool's size before anything starts the pool.
import './threadpool.ts';
import { createLogger, runService } from '@auphonic-bridge/runtime';
import { readConfig } from './config.ts';
import { WorkerService } from './service.ts';

await runService(async () => {
  const config = readConfig();
  const logger = createLogger({ service: 'worker', level: config.logLevel });
  // Past SHUTDOWN_TIMEOUT_MS jobs are released; this leaves time for that, then stops waiting.
  return { service: await WorkerService.create(config, logger), logger, stopDeadlineMs: config.shutdownTimeoutMs + 15_000 };
});
