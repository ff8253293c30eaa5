import { type Static, Type } from 'typebox';

export const Connection = Type.Object(
  {
    id: Type.String(),
    display_name: Type.String(),
    custom_data: Type.Unknown(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('connected'), Type.Literal('needs_reauth')]),
    problem: Type.Union([Type.String(), Type.Null()]),
    auphonic_user: Type.Union([Type.Object({ user_id: Type.String(), username: Type.String() }), Type.Null()]),
    service_uuid: Type.Union([Type.String(), Type.Null()]),
    webhook_url: Type.String({ format: 'uri' }),
    return_url: Type.Union([Type.String(), Type.Null()]),
    notify_url: Type.Union([Type.String(), Type.Null()], {
      description: "where this connection's productions are announced; null: NOTIFY_URL",
    }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Connection', additionalProperties: false },
);
export type Connection = Static<typeof Connection>;

export const ConnectionList = Type.Object({ connections: Type.Array(Connection) });

const displayName = Type.String({ minLength: 1, maxLength: 200, description: 'what the user sees in Auphonic as the External Service' });
const customData = Type.Optional(Type.Unknown({ description: 'JSON kept with the connection and every production it delivers' }));

export const CreateConnectionBody = Type.Object(
  {
    display_name: displayName,
    custom_data: customData,
    return_url: Type.Optional(
      Type.String({ maxLength: 2000, pattern: '^https?://', description: 'where the browser goes when connected' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateConnectionBody = Static<typeof CreateConnectionBody>;

export const ServiceBody = Type.Object({ display_name: displayName, custom_data: customData }, { additionalProperties: false });
export type ServiceBody = Static<typeof ServiceBody>;

export const AuthorizeLink = Type.Object(
  { id: Type.String(), authorize_url: Type.String({ format: 'uri', description: "send the user's browser here" }) },
  { additionalProperties: false },
);

export const PatchConnectionBody = Type.Object(
  {
    // Null first: with Fastify's type coercion, a null tried against string first would become "".
    notify_url: Type.Optional(
      Type.Union([Type.Null(), Type.String({ maxLength: 2000 })], {
        description:
          "the host's endpoint for this connection's events (Standard Webhooks, signed with NOTIFY_SECRET); null: NOTIFY_URL. http(s), and no loopback, private or link-local address unless NOTIFY_ALLOW_PRIVATE=true",
      }),
    ),
  },
  { additionalProperties: false },
);
export type PatchConnectionBody = Static<typeof PatchConnectionBody>;
