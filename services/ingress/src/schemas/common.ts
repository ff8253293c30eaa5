import { CONNECTION_ID_PATTERN } from '@auphonic-bridge/connections';
import { type Static, Type } from 'typebox';

/** Every error answer: a stable code to switch on, and a reason for a person. */
export const ErrorBody = Type.Object(
  { error: Type.String({ description: 'stable code, e.g. ERR_BAD_WEBHOOK' }), message: Type.String() },
  { $id: 'Error', additionalProperties: false },
);

/** Error answers by status, for a route's `response`. */
export function errors(described: Record<number, string>): Record<number, typeof ErrorBody> {
  return Object.fromEntries(Object.entries(described).map(([status, description]) => [status, { ...ErrorBody, description }]));
}

export const ConnectionIdParams = Type.Object(
  { id: Type.String({ pattern: CONNECTION_ID_PATTERN.source, description: 'the connection id (22 characters of base64url)' }) },
  { additionalProperties: false },
);
export type ConnectionIdParams = Static<typeof ConnectionIdParams>;

export const HealthBody = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) });

/** A browser page (the OAuth flow's answers). */
export const HtmlPage = Type.String({ description: 'an HTML page for the person at the browser' });

export const ADMIN = [{ admin: [] }];
