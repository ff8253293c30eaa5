import {
  type Owner,
  type ProductionJobData,
  type ProductionJobResult,
  type ProductionQueue,
  productionDedupId,
} from '@auphonic-bridge/queue';
import type { Job } from 'bullmq';

type ProductionJob = Job<ProductionJobData, ProductionJobResult>;

const PAGE = 200;

/**
 * The production's job: the one that holds its deduplication id (waiting, delayed or
 * running), else the newest finished one BullMQ still keeps (completed jobs 7 days,
 * failed ones 30), found by walking the finished jobs newest first.
 */
export async function findProductionJob(queue: ProductionQueue, owner: Owner, uuid: string): Promise<ProductionJob | null> {
  const dedupId = productionDedupId(owner, uuid);
  const current = await queue.getDeduplicationJobId(dedupId);
  const holder = current ? await queue.getJob(current) : undefined;
  if (holder) return holder;
  let newest: ProductionJob | null = null;
  for (const state of ['completed', 'failed'] as const) {
    for (let start = 0; ; start += PAGE) {
      const page = (await queue.getJobs([state], start, start + PAGE - 1, false)).filter(Boolean);
      const found = page.find((j) => j.data?.uuid === uuid && j.data.owner && productionDedupId(j.data.owner, j.data.uuid) === dedupId);
      if (found) {
        if (!newest || (found.finishedOn ?? 0) > (newest.finishedOn ?? 0)) newest = found;
        break;
      }
      if (page.length < PAGE) break;
    }
  }
  return newest;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/** What the operator asks of a job: its state, attempts, the last error, and when. */
export async function jobStatus(job: ProductionJob) {
  const state = await job.getState();
  return {
    id: job.id ?? '',
    state,
    attempts: job.attemptsMade,
    last_error: job.failedReason || null,
    force: job.data.force === true,
    queued_at: iso(job.timestamp),
    last_started_at: iso(job.processedOn),
    finished_at: iso(job.finishedOn),
    outcome: job.returnvalue?.outcome ?? null,
  };
}
