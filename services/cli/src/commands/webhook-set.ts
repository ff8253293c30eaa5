import type { Run } from '../command.ts';
import { CommandError } from '../errors.ts';
import { addWebhook, matchOf, nameOf, onTarget, removeWebhook, webhookReport, webhooksOf } from '../webhook-target.ts';

/**
 * `webhook set`: our URL on the target, our URLs with other secrets gone, another receiver's
 * webhook replaced only when asked (--replace); then read back, since only Auphonic's word counts.
 */
export const run: Run = (input) =>
  onTarget(input, async ({ target, client, ours, values }) => {
    const current = ours.urls[0] as string;
    const before = await webhooksOf(client, target);
    const others = before.webhooks.filter((url) => matchOf(url, ours) === 'other');
    const present = before.webhooks.includes(current);
    if (!present) {
      if (before.holdsOne && others.length > 0 && values.replace !== true) {
        throw new CommandError(
          'ERR_WEBHOOK_TAKEN',
          `${nameOf(target)} holds one webhook, another receiver's (${others.join(', ')}): nothing changed; --replace replaces it`,
        );
      }
      await addWebhook(client, target, current);
    }
    // Our address with another secret would be called too (or answer 404 forever): it goes. A field held one, now ours.
    const old = before.holdsOne ? [] : before.webhooks.filter((url) => ['previous', 'stale'].includes(matchOf(url, ours)));
    for (const url of old) await removeWebhook(client, target, url);
    const after = await webhooksOf(client, target);
    if (!after.webhooks.includes(current)) {
      throw new CommandError('ERR_WEBHOOK_NOT_SET', `Auphonic took the request, but ${nameOf(target)} does not show our webhook`);
    }
    const changed = !present || old.length > 0;
    const headline = changed ? 'now points at this bridge' : 'already points at this bridge; nothing changed';
    return webhookReport(target, after.webhooks, ours, headline, { changed });
  });
