import { createHash } from 'node:crypto';
import type { NotificationJobData, NotificationType } from '@auphonic-bridge/queue';
import type { ProductionRecord } from '../record.ts';

const TYPES: Record<ProductionRecord['bridge']['outcome'], NotificationType> = {
  complete: 'production.stored',
  partial: 'production.partial',
  error: 'production.error',
};

/**
 * The event for a production recorded for good. Its id is stable for this
 * rendering, this outcome and these stored files (a redelivery, or the same
 * webhook again, has the same webhook-id), and its body is the same bytes
 * every time. A replay that stores more of a partial rendering is another
 * event: with the files in its identity, it is not taken for the first.
 */
export function notificationFor(record: ProductionRecord): NotificationJobData {
  const { bridge, production } = record;
  const type = TYPES[bridge.outcome];
  const owner = bridge.owner.kind === 'account' ? 'account' : `connection:${bridge.owner.id}`;
  const files = bridge.files.map((f) => `${f.key} ${f.md5}`).sort();
  const identity = [owner, bridge.uuid, bridge.fingerprint ?? '', bridge.error?.code ?? '', bridge.outcome, ...files].join('\n');
  const id = `msg_${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
  const title = typeof production?.metadata?.title === 'string' ? production.metadata.title : null;
  const body = JSON.stringify({
    type,
    timestamp: bridge.recordedAt,
    data: {
      uuid: bridge.uuid,
      owner: bridge.owner,
      custom_data: bridge.customData,
      title,
      outcome: bridge.outcome,
      ...(bridge.error ? { error: bridge.error } : {}),
      files: bridge.files.map((f) => ({
        filename: f.filename,
        format: f.format,
        size: f.size,
        md5: f.md5,
        key: f.key,
        kind: f.kind,
        url: f.url ?? null,
      })),
    },
  });
  return { id, type, owner: bridge.owner, body };
}
