import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedUser } from './accounts.ts';
import { envelope, readBody, sendJson } from './http-util.ts';
import { randomUuid } from './ids.ts';
import { type ProductionStore, productionData } from './productions.ts';

/** A preset as far as webhooks go: its name and its webhook URLs. */
export interface SimulatedPreset {
  uuid: string;
  owner: string;
  preset_name: string;
  webhooks: string[];
  creationTime: Date;
}

/**
 * Presets and their webhooks. Auphonic's documented way is the preset's `webhook`
 * field (POST /api/preset/{uuid}.json, "" removes it); its own tooling (the n8n node)
 * uses /api/preset/{uuid}/webhook.json, whose answer lists `webhook: string[]`. Both
 * act on one list here, the field showing its first entry. `webhookEndpoint = false`
 * plays an API without the webhook.json endpoint (it answers 404).
 */
export class PresetStore {
  readonly #presets = new Map<string, SimulatedPreset>();
  webhookEndpoint = true;

  add(input: { owner: string; name?: string; webhooks?: string[]; uuid?: string }): SimulatedPreset {
    const preset: SimulatedPreset = {
      uuid: input.uuid ?? randomUuid(),
      owner: input.owner,
      preset_name: input.name ?? 'Simulated preset',
      webhooks: [...(input.webhooks ?? [])],
      creationTime: new Date(),
    };
    this.#presets.set(preset.uuid, preset);
    return preset;
  }

  get(uuid: string): SimulatedPreset | undefined {
    return this.#presets.get(uuid);
  }
}

/** `data` of GET /api/preset/{uuid}.json, with the fields that matter here. */
export function presetData(preset: SimulatedPreset): Record<string, unknown> {
  return {
    uuid: preset.uuid,
    preset_name: preset.preset_name,
    creation_time: preset.creationTime.toISOString(),
    metadata: { title: '', artist: '', album: '' },
    output_basename: '',
    output_files: [],
    outgoing_services: [],
    algorithms: { leveler: true, filtering: true },
    webhook: preset.webhooks[0] ?? null,
  };
}

export interface WebhookRouteDeps {
  productions: ProductionStore;
  presets: PresetStore;
  baseUrl: () => URL;
}

/** Where a webhook goes: http(s), as Auphonic's form validation asks; "" removes it where the field form takes one. */
const isWebhookUrl = (value: unknown): value is string => typeof value === 'string' && /^https?:\/\/[^\s]+$/.test(value);

function formError(res: ServerResponse, message: string): void {
  sendJson(res, 400, {
    status_code: 400,
    error_code: 'form_error',
    error_message: message,
    form_errors: { webhook: [message] },
    data: null,
  });
}

/** The webhook.json answer: the list at the top, as Auphonic's n8n node reads it. */
function webhookList(res: ServerResponse, preset: SimulatedPreset): void {
  sendJson(res, 200, { status_code: 200, form_errors: {}, error_code: null, error_message: '', webhook: [...preset.webhooks] });
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  try {
    const text = await readBody(req);
    const body = text ? JSON.parse(text) : {};
    return body && typeof body === 'object' && !Array.isArray(body) ? body : null;
  } catch {
    return null;
  }
}

/**
 * The webhook routes of an authenticated user: a production's and a preset's `webhook`
 * field (POST …/{uuid}.json), a preset's details, and GET|POST|DELETE
 * /api/preset/{uuid}/webhook.json. True when the request was one of them.
 */
export async function webhookRoutes(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  user: SimulatedUser,
  deps: WebhookRouteDeps,
): Promise<boolean> {
  const production = /^\/api\/production\/([^/]+)\.json$/.exec(path);
  const preset = /^\/api\/preset\/([^/]+)\.json$/.exec(path);
  const list = /^\/api\/preset\/([^/]+)\/webhook\.json$/.exec(path);
  const method = req.method ?? 'GET';
  if (production && method === 'POST') {
    const record = deps.productions.get(decodeURIComponent(production[1] ?? ''));
    if (!record || record.owner !== user.userId) return notFound(res, 'Production not found.');
    const body = await jsonBody(req);
    if (!body) return bad(res, 'Invalid JSON.');
    if ('webhook' in body) {
      if (body.webhook !== '' && body.webhook !== null && !isWebhookUrl(body.webhook)) return bad(res, 'Enter a valid URL.');
      record.webhook = body.webhook || null;
    }
    envelope(res, 200, productionData(record, deps.baseUrl()));
    return true;
  }
  const found = (preset ?? list)?.[1];
  if (found === undefined) return false;
  if (list && !deps.presets.webhookEndpoint) return notFound(res, 'Not found.');
  const target = deps.presets.get(decodeURIComponent(found));
  if (!target || target.owner !== user.userId) return notFound(res, 'Preset not found.');
  if (preset && method === 'GET') {
    envelope(res, 200, presetData(target));
    return true;
  }
  if (preset && method === 'POST') {
    const body = await jsonBody(req);
    if (!body) return bad(res, 'Invalid JSON.');
    if ('webhook' in body) {
      if (body.webhook !== '' && body.webhook !== null && !isWebhookUrl(body.webhook)) return bad(res, 'Enter a valid URL.');
      target.webhooks = body.webhook ? [body.webhook] : [];
    }
    if (typeof body.preset_name === 'string') target.preset_name = body.preset_name;
    envelope(res, 200, presetData(target));
    return true;
  }
  if (list && method === 'GET') {
    webhookList(res, target);
    return true;
  }
  if (list && (method === 'POST' || method === 'DELETE')) {
    const body = await jsonBody(req);
    if (!body || !isWebhookUrl(body.webhook)) return bad(res, 'Enter a valid URL.');
    const url = body.webhook;
    if (method === 'POST' && !target.webhooks.includes(url)) target.webhooks.push(url);
    if (method === 'DELETE') target.webhooks = target.webhooks.filter((w) => w !== url);
    webhookList(res, target);
    return true;
  }
  return false;
}

function notFound(res: ServerResponse, message: string): true {
  envelope(res, 404, null, { message });
  return true;
}

function bad(res: ServerResponse, message: string): true {
  formError(res, message);
  return true;
}
