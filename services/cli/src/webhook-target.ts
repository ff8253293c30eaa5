import { AuphonicClient, readAuphonicBaseUrl } from '@auphonic-bridge/auphonic';
import { redactString, WEBHOOK_PATHS } from '@auphonic-bridge/runtime';
import { type ProductionWebhookSettings, readProductionWebhookUrls } from '@auphonic-bridge/settings';
import type { CommandInput, CommandResult, Env } from './command.ts';
import { UsageError } from './errors.ts';
import { presetUuid, productionUuid } from './ids.ts';
import { readSettings } from './settings.ts';

/** Where a webhook is set: a preset (every production made from it) or one production. */
export type Target = { kind: 'preset'; uuid: string } | { kind: 'production'; uuid: string };

function targetOf(values: CommandInput['values']): Target {
  const { preset, production } = values;
  if ((preset === undefined) === (production === undefined)) throw new UsageError('give either --preset UUID or --production UUID');
  return typeof preset === 'string'
    ? { kind: 'preset', uuid: presetUuid(preset) }
    : { kind: 'production', uuid: productionUuid(String(production), '--production') };
}

export const nameOf = (t: Target) => `${t.kind} ${t.uuid}`;

/** Our webhook URLs (the current one first) and the address they are under. */
export type Ours = ProductionWebhookSettings & { publicUrl: string };

/** The account's client and our webhook URLs. */
function webhookContext(env: Env): { client: AuphonicClient; ours: Ours } {
  const s = readSettings(env, (r) => ({
    baseUrl: readAuphonicBaseUrl(r),
    apiKey: r.string('AUPHONIC_API_KEY', { minLength: 8 }),
    ours: readProductionWebhookUrls(r, { required: true }),
  }));
  return { client: new AuphonicClient({ baseUrl: s.baseUrl, token: s.apiKey }), ours: { ...s.ours, publicUrl: s.ours.publicUrl ?? '' } };
}

/**
 * What a webhook URL is to us: ours with WEBHOOK_SECRET; ours with WEBHOOK_SECRET_PREVIOUS (still
 * accepted while rotating); our address with a secret we no longer accept (Auphonic's calls get 404);
 * or another receiver's.
 */
export type Match = 'current' | 'previous' | 'stale' | 'other';

export function matchOf(url: string, ours: Ours): Match {
  if (url === ours.urls[0]) return 'current';
  if (ours.urls.includes(url)) return 'previous';
  return url.startsWith(`${ours.publicUrl}${WEBHOOK_PATHS.production}`) ? 'stale' : 'other';
}

/** The target's webhooks; `holdsOne` when setting one replaces what is there (a production, a preset's field form). */
export async function webhooksOf(client: AuphonicClient, target: Target): Promise<{ webhooks: string[]; holdsOne: boolean }> {
  if (target.kind === 'production') return { webhooks: await client.productionWebhooks(target.uuid), holdsOne: true };
  const { webhooks, form } = await client.presetWebhooks(target.uuid);
  return { webhooks, holdsOne: form === 'field' };
}

export async function addWebhook(client: AuphonicClient, target: Target, url: string): Promise<void> {
  if (target.kind === 'production') await client.setProductionWebhook(target.uuid, url);
  else await client.addPresetWebhook(target.uuid, url);
}

/** Removes this one URL (a production's field is emptied: it holds this URL, the caller has seen it). */
export async function removeWebhook(client: AuphonicClient, target: Target, url: string): Promise<void> {
  if (target.kind === 'production') await client.setProductionWebhook(target.uuid, '');
  else await client.removePresetWebhook(target.uuid, url);
}

const LABELS: Record<Match, string> = {
  current: 'this bridge',
  previous: 'this bridge, with WEBHOOK_SECRET_PREVIOUS (webhook set moves it to WEBHOOK_SECRET)',
  stale: "this bridge's address with a secret it no longer accepts (Auphonic's calls get 404)",
  other: 'another receiver',
};

/** The target's webhooks as a command answers them; the URLs are redacted when printed. */
export function webhookReport(
  target: Target,
  webhooks: readonly string[],
  ours: Ours,
  headline: string,
  extra: Record<string, unknown> = {},
): CommandResult {
  const listed = webhooks.map((url) => ({ url, match: matchOf(url, ours) }));
  const shown = listed.map((w) => ({ ...w, url: redactString(w.url) }));
  const width = Math.max(0, ...shown.map((w) => w.url.length));
  return {
    json: { target, points_at_us: pointsAtUs(webhooks, ours), ...extra, webhooks: listed },
    text: [
      `${nameOf(target)}: ${headline}`,
      ...(shown.length === 0 ? ['  (no webhook)'] : shown.map((w) => `  ${w.url.padEnd(width)}  ${LABELS[w.match]}`)),
    ],
  };
}

/** The ingress takes what Auphonic posts there: our URL with the current or the previous secret. */
export const pointsAtUs = (webhooks: readonly string[], ours: Ours) =>
  webhooks.some((url) => ['current', 'previous'].includes(matchOf(url, ours)));

/** What a webhook command works with: the target from its options (a usage error first), the account's client, our URLs. */
export function onTarget(
  input: CommandInput,
  act: (on: { target: Target; client: AuphonicClient; ours: Ours; values: CommandInput['values'] }) => Promise<CommandResult>,
): Promise<CommandResult> {
  const target = targetOf(input.values);
  return act({ target, ...webhookContext(input.env), values: input.values });
}
