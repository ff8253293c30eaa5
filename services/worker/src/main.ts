import { createLogger, runService } from '@auphonic-bridge/runtime';
import { readConfig } from './config.ts';
import { WorkerService } from './service.ts';

await runService(() => {
  const config = readConfig();
  const logger = createLogger({ service: 'worker', level: config.logLevel });
  return { service: WorkerService.create(config, logger), logger };
});
