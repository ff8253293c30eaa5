import { ConnectionStore, readEncryptionKeys, Sealer } from '@auphonic-bridge/connections';
import { addProductionJob, bridgeKeyPrefix, createProductionQueue, readRedisSettings } from '@auphonic-bridge/queue';
import type { Run } from '../command.ts';
import { CommandError } from '../errors.ts';
import { ownerName, ownerOf, productionUuid } from '../ids.ts';
import { withRedis } from '../redis.ts';
import { readSettings } from '../settings.ts';

/** `replay`: the production queued again, for the account or an existing connection; --force for every file again. */
export const run: Run = async ({ values, positionals, env }) => {
  const uuid = productionUuid(positionals[0] ?? '');
  const owner = ownerOf(values);
  const force = values.force === true;
  const settings = readSettings(env, (r) => ({
    redis: readRedisSettings(r),
    keys: owner.kind === 'connection' ? readEncryptionKeys(r, { optional: false }) : null,
  }));
  return withRedis(settings.redis, async (redis) => {
    if (owner.kind === 'connection' && settings.keys) {
      const store = new ConnectionStore(redis, new Sealer(settings.keys), { keyPrefix: bridgeKeyPrefix(settings.redis) });
      if (!(await store.get(owner.id))) throw new CommandError('ERR_NO_SUCH_CONNECTION', `no connection ${owner.id}: nothing queued`);
    }
    const queue = createProductionQueue(redis, { prefix: settings.redis.prefix });
    try {
      const job = await addProductionJob(queue, { uuid, owner, reportedStatus: null, force });
      const state = await job.getState();
      return {
        json: { uuid, owner, job_id: job.id, state, force },
        text: [
          `queued production ${uuid} of ${ownerName(owner)} again: job ${job.id} (${state})`,
          force
            ? 'with --force: every file is downloaded and verified again'
            : 'an unchanged production downloads nothing (--force to download anyway)',
        ],
      };
    } finally {
      await queue.close();
    }
  });
};
