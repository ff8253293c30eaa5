import { createLogger, runService } from '@auphonic-bridge/runtime';
import { readConfig } from './config.ts';
import { IngressService } from './service.ts';

await runService(() => {
  const config = readConfig();
  const logger = createLogger({ service: 'ingress', level: config.logLevel });
  return { service: IngressService.create(config, logger), logger };
});
