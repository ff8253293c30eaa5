import type { EnvReader } from '@auphonic-bridge/runtime';

/** AUPHONIC_BASE_URL: the origin of Auphonic's API (the API key is sent there only). Tests point it at the simulator. */
export function readAuphonicBaseUrl(r: EnvReader): URL {
  const url = r.url('AUPHONIC_BASE_URL', { default: 'https://auphonic.com', protocols: ['https:', 'http:'] });
  if (url.pathname !== '/' || url.search) r.problem('AUPHONIC_BASE_URL', 'must be an origin only, like https://auphonic.com');
  return url;
}
