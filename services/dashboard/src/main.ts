import { createLogger, runService } from '@auphonic-bridge/runtime';
import { readConfig } from './config.ts';
import { DashboardService } from './service.ts';

await runService(() => {
  const config = readConfig();
  const logger = createLogger({ service: 'dashboard', level: config.logLevel });
  return { service: DashboardService.create(config, logger), logger };
});
