import type { ProductionJobResult } from '@auphonic-bridge/queue';

/**
 * Fills `{uuid}` and `{custom_data.<key>}` (one level, URL-encoded) in the
 * configured result page template; an unknown placeholder becomes empty.
 */
export function resultPageUrl(template: string | null, uuid: string, customData: unknown): string | undefined {
  if (!template) return undefined;
  return template.replace(/\{(uuid|custom_data\.([A-Za-z0-9_]+))\}/g, (_match, name: string, key: string | undefined) => {
    if (name === 'uuid') return encodeURIComponent(uuid);
    const value = customData && typeof customData === 'object' && key ? (customData as Record<string, unknown>)[key] : undefined;
    // Well-formed first: a lone surrogate (legal in JSON) makes encodeURIComponent throw, and the job is queued by then.
    return typeof value === 'string' || typeof value === 'number' ? encodeURIComponent(String(value).toWellFormed()) : '';
  });
}

/** The stored MP3 (Auphonic always renders at least one CBR MP3), under the public files URL. */
export function resultFileUrl(publicFilesUrl: URL | null, result: ProductionJobResult | undefined): string | undefined {
  const mp3 = result?.stored?.find((f) => f.format === 'mp3') ?? result?.stored?.find((f) => f.filename.toLowerCase().endsWith('.mp3'));
  if (!publicFilesUrl || !mp3) return undefined;
  const base = publicFilesUrl.toString().replace(/\/+$/, '');
  return `${base}/${mp3.key.split('/').map(encodeURIComponent).join('/')}`;
}
