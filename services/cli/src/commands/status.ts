import { productionPrefix, recordKey } from '@auphonic-bridge/layout';
import { createProductionQueue, pendingRepeatsOf, readRedisSettings } from '@auphonic-bridge/queue';
import { explainStorageError, readStorageSettings } from '@auphonic-bridge/settings';
import { createStorage } from '@auphonic-bridge/storage';
import type { Run } from '../command.ts';
import { CommandError } from '../errors.ts';
import { ownerName, ownerOf, productionUuid } from '../ids.ts';
import { findProductionJob, jobStatus } from '../job-lookup.ts';
import { table } from '../output.ts';
import { type RecordSummary, summariseRecord } from '../record-summary.ts';
import { withRedis } from '../redis.ts';
import { readSettings } from '../settings.ts';

/** `status`: the production's job and its record, found where the worker keeps them. Changes nothing. */
export const run: Run = async ({ values, positionals, env }) => {
  const uuid = productionUuid(positionals[0] ?? '');
  const owner = ownerOf(values);
  const settings = readSettings(env, (r) => ({ redis: readRedisSettings(r), storage: readStorageSettings(r) }));
  const job = await withRedis(settings.redis, async (redis) => {
    const queue = createProductionQueue(redis, { prefix: settings.redis.prefix });
    try {
      const found = await findProductionJob(queue, owner, uuid);
      if (!found) return null;
      // A replay with force asked while a run was under way waits beside the job for the run after it.
      const { forceAt } = await pendingRepeatsOf(queue, owner, uuid);
      return { ...(await jobStatus(found)), force_pending_since: forceAt };
    } finally {
      await queue.close();
    }
  });
  let record: RecordSummary | null;
  try {
    const storage = await createStorage(settings.storage);
    record = summariseRecord(await storage.readJson(recordKey(productionPrefix(owner, uuid))));
  } catch (err) {
    throw explainStorageError(err, settings.storage);
  }
  if (!job && !record) {
    throw new CommandError(
      'ERR_UNKNOWN_PRODUCTION',
      `nothing known of production ${uuid} of ${ownerName(owner)}: no job in the queue, no record in storage`,
    );
  }
  return {
    json: { uuid, owner, job, record },
    text: [`production ${uuid} of ${ownerName(owner)}`, ...jobLines(job), ...recordLines(record)],
  };
};

function jobLines(job: (Awaited<ReturnType<typeof jobStatus>> & { force_pending_since: string | null }) | null): string[] {
  if (!job) return ['job: none in the queue (finished jobs are kept 7 days, failed ones 30)'];
  const when = [
    job.queued_at && `queued ${job.queued_at}`,
    job.last_started_at && `last started ${job.last_started_at}`,
    job.finished_at && `finished ${job.finished_at}`,
  ].filter(Boolean);
  return [
    `job ${job.id}: ${job.state}${job.outcome ? ` (${job.outcome})` : ''}, ${job.attempts} attempt(s)${job.force ? ', forced' : ''}; ${when.join(', ')}`,
    ...(job.last_error ? [`  last error: ${job.last_error}`] : []),
    ...(job.force_pending_since
      ? [`  replay with force asked ${job.force_pending_since}: the next run fetches and verifies every file again`]
      : []),
  ];
}

function recordLines(record: RecordSummary | null): string[] {
  if (!record) return ['record: none in storage'];
  return [
    `record: ${record.outcome}${record.final ? '' : ' (not final: failed outputs are being retried)'}, recorded ${record.recorded_at ?? '?'}`,
    ...(record.error ? [`  error: ${record.error.code}: ${record.error.message}`] : []),
    ...table(
      record.outputs.map((o) => [
        `  ${o.fate}`,
        o.filename ?? '-',
        o.format,
        o.size !== null ? `${o.size} bytes` : [o.code, o.reason].filter(Boolean).join(': '),
      ]),
    ),
    `  files: ${record.files}, ${record.bytes} bytes`,
  ];
}
