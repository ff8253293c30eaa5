import { isProductionUuid } from '@auphonic-bridge/auphonic';
import { badWebhook, HttpError } from './errors.ts';

export interface ProductionWebhook {
  uuid: string;
  status: number;
  statusString: string | null;
}

/** A webhook has three fields; a few more are tolerated, a flood is refused before it costs anything. */
export const MAX_WEBHOOK_FIELDS = 20;

export const tooManyFields = () =>
  new HttpError(413, 'ERR_TOO_MANY_FIELDS', `more than ${MAX_WEBHOOK_FIELDS} fields (a webhook has uuid, status and status_string)`);

/**
 * The fields of one webhook body, form or multipart. Linear in the body:
 * a repeated name appends to its list in place (never a copy per repeat),
 * and past MAX_WEBHOOK_FIELDS the body is refused.
 */
export class WebhookFields {
  readonly #values = new Map<string, string[]>();
  #count = 0;

  add(name: string, value: string): void {
    this.#count += 1;
    if (this.#count > MAX_WEBHOOK_FIELDS) throw tooManyFields();
    const list = this.#values.get(name);
    if (list) list.push(value);
    else this.#values.set(name, [value]);
  }

  get(name: string): readonly string[] | undefined {
    return this.#values.get(name);
  }
}

/** Validates the fields Auphonic posts: uuid, status, status_string. */
export function parseProductionWebhook(fields: WebhookFields): ProductionWebhook {
  const one = (name: string): string | undefined => {
    const values = fields.get(name);
    if (values && values.length > 1) throw badWebhook(`field "${name}" given more than once`);
    return values?.[0];
  };
  const uuid = one('uuid');
  if (uuid === undefined) throw badWebhook('field "uuid" is missing');
  if (!isProductionUuid(uuid)) throw badWebhook('field "uuid" is not an Auphonic uuid (1 to 64 letters and digits)');
  const status = one('status');
  if (status === undefined) throw badWebhook('field "status" is missing');
  if (!/^\d{1,3}$/.test(status)) throw badWebhook('field "status" is not a status code');
  const statusString = one('status_string') ?? null;
  if (statusString !== null && statusString.length > 200) throw badWebhook('field "status_string" is too long');
  return { uuid, status: Number(status), statusString };
}
