/** Auphonic's own production and preset uuids today: 22 characters of [a-zA-Z0-9]. */
export const UUID_PATTERN = /^[A-Za-z0-9]{22}$/;

/**
 * What we accept as a production uuid from a webhook or a job: letters and
 * digits only (it becomes a storage path segment and a Redis key part),
 * bounded, but not pinned to today's 22 characters: a format assumption
 * must never cost a webhook.
 */
export const PRODUCTION_ID_PATTERN = /^[A-Za-z0-9]{1,64}$/;

export function isProductionUuid(value: unknown): value is string {
  return typeof value === 'string' && PRODUCTION_ID_PATTERN.test(value);
}

/**
 * An output filename becomes a path segment in storage, so it must be a plain
 * name: no separators, no control characters, no dot-names, bounded length.
 * Unicode is allowed (Auphonic derives names from titles).
 */
export function isSafeFilename(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (value.length === 0 || Buffer.byteLength(value) > 255) return false;
  if (value.startsWith('.') || value.endsWith(' ') || value.endsWith('.')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  return !/[/\\\u0000-\u001f\u007f]/.test(value);
}
