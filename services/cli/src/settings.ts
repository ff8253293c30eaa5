import { EnvReader } from '@auphonic-bridge/runtime';
import type { Env } from './command.ts';

/**
 * A command's settings, read from the same environment as the services and with the
 * same readers (packages/queue, packages/settings, packages/connections); every
 * problem named at once, as a ConfigError (exit 1). Each command reads only what it uses.
 */
export function readSettings<T>(env: Env, read: (r: EnvReader) => T): T {
  const r = new EnvReader(env);
  const settings = read(r);
  r.done();
  return settings;
}
