/**
 * The metric names the monitoring files may use: the contract with the services
 * (packages/metrics), with each metric's labels and, where they are a closed set, their values.
 */
export interface MetricSpec {
  type: 'counter' | 'gauge' | 'histogram';
  labels: Record<string, readonly string[] | null>;
}

const QUEUE = { queue: null } as const;

export const CONTRACT: Record<string, MetricSpec> = {
  auphonic_bridge_webhooks_received_total: { type: 'counter', labels: { route: ['production', 'service'] } },
  auphonic_bridge_webhooks_refused_total: { type: 'counter', labels: { route: ['production', 'service'], reason: null } },
  auphonic_bridge_queue_jobs: {
    type: 'gauge',
    labels: { ...QUEUE, state: ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused'] },
  },
  auphonic_bridge_queue_runnable_jobs: { type: 'gauge', labels: QUEUE },
  auphonic_bridge_queue_oldest_waiting_seconds: { type: 'gauge', labels: QUEUE },
  auphonic_bridge_queue_workers: { type: 'gauge', labels: QUEUE },
  auphonic_bridge_jobs_processed_total: { type: 'counter', labels: { ...QUEUE, outcome: ['completed', 'failed', 'released'] } },
  auphonic_bridge_job_retries_total: { type: 'counter', labels: QUEUE },
  auphonic_bridge_job_duration_seconds: { type: 'histogram', labels: { ...QUEUE, outcome: ['completed', 'failed', 'released'] } },
  auphonic_bridge_download_bytes_total: { type: 'counter', labels: {} },
  auphonic_bridge_productions_recorded_total: {
    type: 'counter',
    labels: { outcome: ['complete', 'partial', 'error', 'unchanged', 'not-finished'] },
  },
  auphonic_bridge_reconcile_recovered_total: { type: 'counter', labels: { owner_kind: ['account', 'connection'] } },
  auphonic_bridge_reconcile_skipped_total: { type: 'counter', labels: { owner_kind: ['account', 'connection'] } },
  auphonic_bridge_storage_swept_total: { type: 'counter', labels: {} },
  auphonic_bridge_notifications_total: { type: 'counter', labels: { outcome: ['delivered', 'failed', 'gone', 'given-up', 'deferred'] } },
  auphonic_bridge_auphonic_request_duration_seconds: { type: 'histogram', labels: { operation: null, status_code: null } },
};

/**
 * Labels every series has besides its own: `service` (the registry's default label) and what
 * Prometheus adds when it scrapes a pod (the usual kubernetes_sd relabelling).
 */
export const TARGET_LABELS = ['service', 'job', 'instance', 'namespace', 'pod', 'container'];

export interface ResolvedMetric {
  /** The contract name, or the process metric's own name. */
  family: string;
  spec: MetricSpec | null;
  /** Extra label of a histogram's _bucket series. */
  extraLabels: string[];
}

/** The contract metric a series name belongs to (histograms: _bucket, _sum, _count), or null. */
export function resolveContractMetric(name: string): ResolvedMetric | null {
  const direct = CONTRACT[name];
  if (direct) return { family: name, spec: direct, extraLabels: [] };
  const m = name.match(/^(.*)_(bucket|sum|count)$/);
  const family = m?.[1];
  const spec = family ? CONTRACT[family] : undefined;
  if (family && spec?.type === 'histogram') return { family, spec, extraLabels: m?.[2] === 'bucket' ? ['le'] : [] };
  return null;
}
