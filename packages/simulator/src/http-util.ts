import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestLogEntry {
  origin: 'api' | 'storage';
  method: string;
  /** Pathname only, decoded. */
  path: string;
  range: string | undefined;
  hasAuthorization: boolean;
  status: number;
  /** Body bytes actually written (a cut connection counts what went out). */
  bytesSent: number;
  /** When the request came in, and when its answer was done (ms since the epoch). */
  at: number;
  doneAt: number;
}

/** Logs the request once its answer is finished or its socket closed. */
export function logRequest(
  log: RequestLogEntry[],
  origin: RequestLogEntry['origin'],
  req: IncomingMessage,
  res: ServerResponse,
  sent: () => number,
): void {
  let path = '';
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    path = req.url ?? '';
  }
  let done = false;
  const at = Date.now();
  const record = () => {
    if (done) return;
    done = true;
    log.push({
      origin,
      method: req.method ?? '',
      path,
      range: req.headers.range,
      hasAuthorization: req.headers.authorization !== undefined,
      status: res.statusCode,
      bytesSent: sent(),
      at,
      doneAt: Date.now(),
    });
  };
  res.on('finish', record);
  res.on('close', record);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

/** The API's envelope around every JSON answer. */
export function envelope(
  res: ServerResponse,
  status: number,
  data: unknown,
  error?: { code?: string; message: string },
  headers?: Record<string, string>,
): void {
  sendJson(
    res,
    status,
    {
      status_code: status,
      form_errors: {},
      error_code: error?.code ?? null,
      error_message: error?.message ?? '',
      data: error ? null : data,
    },
    headers,
  );
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function bearerToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  return url.searchParams.get('bearer_token') ?? undefined;
}
