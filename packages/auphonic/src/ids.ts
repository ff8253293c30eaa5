/** Auphonic production and preset uuids: 22 characters of [a-zA-Z0-9]. */
export const UUID_PATTERN = /^[A-Za-z0-9]{22}$/;

export function isProductionUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
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
