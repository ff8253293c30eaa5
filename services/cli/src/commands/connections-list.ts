import { ConnectionStore, readEncryptionKeys, Sealer } from '@auphonic-bridge/connections';
import { bridgeKeyPrefix, readRedisSettings } from '@auphonic-bridge/queue';
import type { Run } from '../command.ts';
import { table } from '../output.ts';
import { withRedis } from '../redis.ts';
import { readSettings } from '../settings.ts';

/** `connections list`: the connections as the admin API lists them, never their tokens. */
export const run: Run = async ({ env }) => {
  const settings = readSettings(env, (r) => ({ redis: readRedisSettings(r), keys: readEncryptionKeys(r, { optional: false }) ?? [] }));
  const connections = await withRedis(settings.redis, (redis) =>
    new ConnectionStore(redis, new Sealer(settings.keys), { keyPrefix: bridgeKeyPrefix(settings.redis) }).list(),
  );
  const rows = connections.map((c) => ({
    id: c.id,
    display_name: c.displayName,
    user: c.auphonicUser ? { user_id: c.auphonicUser.userId, username: c.auphonicUser.username } : null,
    status: c.status,
    // Where the host's system hears of its stored productions; null: NOTIFY_URL.
    notify_url: c.notifyUrl ?? null,
  }));
  return {
    json: { connections: rows },
    text:
      rows.length === 0
        ? ['no connections']
        : table([
            ['ID', 'DISPLAY NAME', 'USER', 'STATUS', 'NOTIFY URL'],
            ...rows.map((c) => [c.id, c.display_name, c.user?.username ?? '-', c.status, c.notify_url ?? '-']),
          ]),
  };
};
