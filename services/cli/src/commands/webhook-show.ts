import type { Run } from '../command.ts';
import { onTarget, pointsAtUs, webhookReport, webhooksOf } from '../webhook-target.ts';

/** `webhook show`: the target's webhooks, whose each is, and whether one points at us. Changes nothing. */
export const run: Run = (input) =>
  onTarget(input, async ({ target, client, ours }) => {
    const { webhooks } = await webhooksOf(client, target);
    return webhookReport(target, webhooks, ours, pointsAtUs(webhooks, ours) ? 'points at this bridge' : 'does not point at this bridge');
  });
