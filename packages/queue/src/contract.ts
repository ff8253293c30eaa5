import type { JobsOptions } from 'bullmq';

/** Queue names. One queue per kind of work. */
export const QUEUES = {
  productions: 'productions',
  /** The safety net: finished productions whose webhook never came. */
  reconcile: 'reconcile',
  /** Telling the host's own system that a production was recorded (Standard Webhooks, signed). */
  notifications: 'notifications',
} as const;

/**
 * Whose credentials fetch the production: the API-key account, or an External
 * Service connection. Ids only, never secrets (job data is clear text in Redis).
 */
export type Owner = { kind: 'account' } | { kind: 'connection'; id: string };

/** Job data of the `productions` queue: a webhook said this production finished. */
export interface ProductionJobData {
  uuid: string;
  owner: Owner;
  /** What the webhook claimed; the worker trusts only what the API says. */
  reportedStatus: number | null;
  /** The External Service webhook's custom_data, kept with the production record. */
  customData?: unknown;
  /** When this was asked for: the webhook, or a replay. */
  receivedAt: string;
  /**
   * A replay asked for the files even though the record says nothing changed: what was recorded
   * before `receivedAt` is neither trusted nor reused (every file is downloaded and verified again).
   */
  force?: boolean;
  /**
   * When the worker first found only what Auphonic may still bring (an output not rendered, no
   * outputs, storage it may not reach): such a wait lasts NOT_FINISHED_PATIENCE_MS from then.
   */
  waitingSince?: string;
}

/** One of Auphonic's output files (audio, video, subtitles…), the cover, a chapter's image, or the chapters.json the worker writes. */
export type OutputKind = 'audio' | 'cover' | 'chapter-image' | 'chapters';

export interface ProductionJobResult {
  uuid: string;
  /**
   * complete: every rendered output stored; partial: some stored, some refused or failed for good;
   * error: Auphonic's error (recorded, nothing to download) or nothing storable; unchanged: stored before,
   * nothing to do; not-finished: running again at Auphonic (its next Done brings a new webhook);
   * requeued: retried by hand (or added without deduplication), and queued anew as another job (`requeuedAs`).
   */
  outcome: 'complete' | 'partial' | 'error' | 'unchanged' | 'not-finished' | 'requeued';
  requeuedAs?: string;
  files: number;
  bytes: number;
  /** Storage keys of the files, for result links. */
  stored?: Array<{ filename: string; format: string; kind?: OutputKind; key: string }>;
  /** Every output's fate, and why when it was not stored (what the dashboard shows). */
  outputs?: Array<{
    filename: string | null;
    format: string;
    kind?: OutputKind;
    fate: 'stored' | 'not_rendered' | 'refused' | 'failed';
    reason?: string;
  }>;
}

/**
 * Attempts and retention for production jobs. Attempts are not what ends the
 * retries: the worker gives a job up once RETRY_FOR has passed since it was
 * queued (see the worker's fate.ts); this only bounds a runaway.
 */
export const PRODUCTION_JOB_OPTIONS: JobsOptions = {
  attempts: 100_000,
  backoff: { type: 'jittered' },
};

/**
 * How long finished production jobs are kept: set on the worker, which applies it when a
 * job finishes, rather than packed into every job (the ingress adds thousands a second).
 */
export const PRODUCTION_RETENTION = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const;

/** Jobs of the `reconcile` queue: the scheduled round over every owner, or one connection (after it was re-authorised). */
export type ReconcileJobData = Record<string, never> | { connectionId: string };
export const RECONCILE_JOB_NAMES = { everyone: 'reconcile', connection: 'reconcile-connection' } as const;

export const RECONCILE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/**
 * The deduplication id of a production: while its job waits, another delivery of
 * the same webhook adds nothing; while it runs, one more run is kept for after.
 */
export function productionDedupId(owner: Owner, uuid: string): string {
  return owner.kind === 'account' ? `account-${uuid}` : `connection-${owner.id}-${uuid}`;
}

/** The events a host's endpoint receives, one per production recorded for good. */
export type NotificationType = 'production.stored' | 'production.partial' | 'production.error';

/**
 * Job data of the `notifications` queue. The body is fixed when the event
 * happens (every attempt sends the same bytes, signed again with the time of
 * the attempt); where it goes is looked up when it is sent (a connection's
 * notify URL may change meanwhile), and no secret is in here.
 */
export interface NotificationJobData {
  /** Standard Webhooks' webhook-id: stable per event, so that a receiver can drop a redelivery. */
  id: string;
  type: NotificationType;
  owner: Owner;
  /** The JSON body, as sent. */
  body: string;
  /** When it was last retried by hand (ms): NOTIFY_RETRY_FOR counts from then, not from the job's creation. */
  retriedAt?: number;
  /** Set when it is given up (ms): a job taken again with it was retried by hand. */
  gaveUpAt?: number;
}

export const NOTIFICATION_JOB_OPTIONS: JobsOptions = {
  // As for productions: the worker gives up once NOTIFY_RETRY_FOR has passed; this bounds a runaway.
  attempts: 100_000,
  backoff: { type: 'jittered' },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
};
