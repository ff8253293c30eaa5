/** The first value of a header that may come as a list. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const CONTENT_RANGE = /^bytes (\d+)-\d+\/(\d+|\*)$/;

/** A 206's Content-Range: where its bytes start, and the whole file's size (NaN for `*`); null when it is not one. */
export function contentRange(value: string | string[] | undefined): { start: number; total: number } | null {
  const match = CONTENT_RANGE.exec(headerValue(value) ?? '');
  return match ? { start: Number(match[1]), total: Number(match[2]) } : null;
}
