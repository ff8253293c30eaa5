import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, readBody, sendJson } from './http-util.ts';
import { pseudoRandomBytes } from './ids.ts';
import type { AddProductionInput, SimulatedChapter, SimulatedFile, SimulatedImage } from './productions.ts';
import type { AuphonicSimulator } from './simulator.ts';

/** Bytes over JSON: a string as UTF-8, or `{size}` deterministic bytes. */
type WireContent = string | { size: number };
type WireFile = Omit<SimulatedFile, 'content' | 'path'> & { content?: WireContent };
type WireImage = Omit<SimulatedImage, 'content'> & { content?: WireContent };
type WireChapter = Omit<SimulatedChapter, 'image'> & { image?: WireImage | null };

function fromWire(content: WireContent | undefined, seed: number): Buffer | undefined {
  if (typeof content === 'string') return Buffer.from(content);
  if (content && typeof content === 'object') return pseudoRandomBytes(content.size, seed);
  return undefined;
}

function imageFromWire(image: WireImage | null | undefined, seed: number): SimulatedImage | null | undefined {
  if (!image) return image;
  const { content, ...rest } = image;
  const bytes = fromWire(content, seed);
  return bytes ? { ...rest, content: bytes } : rest;
}

/**
 * Drives the simulator over HTTP (the demo, a compose profile), guarded by the
 * simulator's API key: POST /_simulator/productions, and
 * POST /_simulator/productions/{uuid}/complete.
 */
export function controlRoutes(sim: () => AuphonicSimulator, apiKey: string) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith('/_simulator/')) return false;
    if (bearerToken(req, url) !== apiKey) {
      sendJson(res, 401, { error: 'the simulator API key is required' });
      return true;
    }
    let body: Record<string, unknown> = {};
    try {
      const text = await readBody(req);
      body = text ? JSON.parse(text) : {};
    } catch {
      sendJson(res, 400, { error: 'invalid JSON' });
      return true;
    }
    const complete = /^\/_simulator\/productions\/([A-Za-z0-9]{22})\/complete$/.exec(url.pathname);
    if (req.method === 'POST' && url.pathname === '/_simulator/productions') {
      const input = body as Omit<AddProductionInput, 'files' | 'image' | 'chapters'> & {
        files?: WireFile[];
        image?: WireImage | null;
        chapters?: WireChapter[];
      };
      const files = (input.files ?? []).map((f, i): SimulatedFile => {
        const { content, ...rest } = f;
        const bytes = fromWire(content, i + 1);
        return bytes ? { ...rest, content: bytes } : rest;
      });
      const image = imageFromWire(input.image, 1000);
      const chapters = input.chapters?.map((c, i): SimulatedChapter => ({ ...c, image: imageFromWire(c.image, 1001 + i) }));
      sendJson(res, 201, await sim().addProduction({ ...input, files, image, chapters }));
      return true;
    }
    if (req.method === 'POST' && complete?.[1]) {
      const status = typeof body.status === 'number' ? body.status : undefined;
      sendJson(res, 200, await sim().completeProduction(complete[1], { status }));
      return true;
    }
    sendJson(res, 404, { error: 'no such simulator route' });
    return true;
  };
}
