import { isProductionUuid, UUID_PATTERN } from '@auphonic-bridge/auphonic';
import { CONNECTION_ID_PATTERN } from '@auphonic-bridge/connections';
import type { Owner } from '@auphonic-bridge/queue';
import type { CommandInput } from './command.ts';
import { UsageError } from './errors.ts';

/** A production uuid as the bridge takes one (letters and digits); a usage error otherwise. */
export function productionUuid(value: string, what = 'UUID'): string {
  if (!isProductionUuid(value)) throw new UsageError(`${what}: not a production uuid (1 to 64 letters and digits)`);
  return value;
}

/** A preset uuid: Auphonic's 22 letters and digits. */
export function presetUuid(value: string): string {
  if (!UUID_PATTERN.test(value)) throw new UsageError('--preset: not a preset uuid (22 letters and digits)');
  return value;
}

/** A connection id, as the admin API gave it. */
export function connectionId(value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !CONNECTION_ID_PATTERN.test(value))
    throw new UsageError('--connection: not a connection id (22 characters of base64url)');
  return value;
}

/** Whose production: `--connection ID`'s, or the account's. */
export function ownerOf(values: CommandInput['values']): Owner {
  const id = connectionId(values.connection);
  return id === undefined ? { kind: 'account' } : { kind: 'connection', id };
}

export const ownerName = (owner: Owner) => (owner.kind === 'account' ? 'the account' : `connection ${owner.id}`);
