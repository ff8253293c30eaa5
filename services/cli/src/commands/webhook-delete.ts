import type { Run } from '../command.ts';
import { CommandError } from '../errors.ts';
import { matchOf, nameOf, onTarget, removeWebhook, webhookReport, webhooksOf } from '../webhook-target.ts';

/** `webhook delete`: every webhook of ours (any secret) off the target, another receiver's left; then read back. */
export const run: Run = (input) =>
  onTarget(input, async ({ target, client, ours }) => {
    const isOurs = (url: string) => matchOf(url, ours) !== 'other';
    const before = await webhooksOf(client, target);
    const mine = before.webhooks.filter(isOurs);
    for (const url of mine) await removeWebhook(client, target, url);
    const after = mine.length > 0 ? await webhooksOf(client, target) : before;
    if (after.webhooks.some(isOurs)) {
      throw new CommandError('ERR_WEBHOOK_NOT_REMOVED', `Auphonic took the request, but ${nameOf(target)} still shows our webhook`);
    }
    const headline = mine.length > 0 ? `removed ${mine.length} webhook(s) of this bridge` : 'no webhook of this bridge; nothing changed';
    return webhookReport(target, after.webhooks, ours, headline, { removed: mine.length });
  });
