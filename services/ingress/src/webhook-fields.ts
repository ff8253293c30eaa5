import { isProductionUuid } from '@auphonic-bridge/auphonic';
import { badWebhook } from './errors.ts';

export interface ProductionWebhook {
  uuid: string;
  status: number;
  statusString: string | null;
}

/** Validates the fields Auphonic posts: uuid, status, status_string. */
export function parseProductionWebhook(fields: Record<string, string | string[] | undefined>): ProductionWebhook {
  const one = (name: string): string | undefined => {
    const value = fields[name];
    if (Array.isArray(value)) throw badWebhook(`field "${name}" given more than once`);
    return value;
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
