import { PRODUCTION_ID_PATTERN } from '@auphonic-bridge/auphonic';
import { CONNECTION_ID_PATTERN } from '@auphonic-bridge/connections';
import { type Static, Type } from 'typebox';

export const ProductionUuidParams = Type.Object(
  { uuid: Type.String({ pattern: PRODUCTION_ID_PATTERN.source, description: "the production's uuid (letters and digits)" }) },
  { additionalProperties: false },
);
export type ProductionUuidParams = Static<typeof ProductionUuidParams>;

export const ReplayBody = Type.Object(
  {
    connection_id: Type.Optional(
      Type.String({
        pattern: CONNECTION_ID_PATTERN.source,
        description: "the connection whose production it is; without it, the API key's account",
      }),
    ),
    force: Type.Optional(
      Type.Boolean({ description: 'download and verify every file again, even if the record says nothing changed (default false)' }),
    ),
  },
  { additionalProperties: false },
);
export type ReplayBody = Static<typeof ReplayBody>;

export const Replayed = Type.Object(
  {
    status: Type.Literal('queued'),
    uuid: Type.String(),
    job_id: Type.String({ description: 'the job that will run it (a waiting one it joined, or a new one)' }),
    force: Type.Boolean(),
  },
  { additionalProperties: false, description: 'queued again' },
);
