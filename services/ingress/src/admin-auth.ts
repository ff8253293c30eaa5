import { matchesAnySecret } from '@auphonic-bridge/runtime';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';

/** The admin API's guard, for every admin route: `Authorization: Bearer <ADMIN_TOKEN or ADMIN_TOKEN_PREVIOUS>`. */
export function requireAdmin(tokens: readonly string[]) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !matchesAnySecret(token, tokens)) {
      throw new HttpError(401, 'ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
  };
}
