import { Type } from 'typebox';

/**
 * What Auphonic posts to the production webhook (form, then multipart). For the
 * document only: the route's own parser refuses what does not fit, with a reason.
 */
export const ProductionWebhookFields = Type.Object({
  uuid: Type.String({ description: 'the production (letters and digits)' }),
  status: Type.String({ description: 'Auphonic status code: 3 Done, 2 Error' }),
  status_string: Type.Optional(Type.String()),
});

export const SecretParams = Type.Object({ secret: Type.String({ description: 'WEBHOOK_SECRET (or WEBHOOK_SECRET_PREVIOUS)' }) });

export const Queued = Type.Object(
  { status: Type.Literal('queued'), uuid: Type.String() },
  { additionalProperties: false, description: 'queued in Redis' },
);

export const ServiceWebhookParams = Type.Object({
  connectionId: Type.String({ description: "the connection's id, from its webhook_url" }),
});

/** The JWT, whatever the content type: bare, or as a JSON string. For the document only, as above. */
export const ServiceWebhookBody = Type.String({ description: 'a JWT, HS256 with the OAuth client secret, payload {uuid, custom_data}' });

export const ResultLinks = Type.Object(
  { result_page_url: Type.Optional(Type.String()), result_file_url: Type.Optional(Type.String()) },
  { additionalProperties: false, description: 'queued; result links when known (Auphonic shows them to the user)' },
);
