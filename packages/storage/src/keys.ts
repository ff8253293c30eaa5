import { StorageError } from './errors.ts';

/** Splits a key into segments, refusing anything that is not a plain relative path. */
export function keySegments(key: string): string[] {
  const segments = key.split('/');
  for (const s of segments) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and control characters are what this refuses
    if (s === '' || s === '.' || s === '..' || /[\\\u0000-\u001f]/.test(s)) {
      throw new StorageError('ERR_STORAGE_BAD_KEY', `refusing storage key ${JSON.stringify(key)}`, { retryable: false });
    }
  }
  return segments;
}
