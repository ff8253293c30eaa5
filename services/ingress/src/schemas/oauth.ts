import { type Static, Type } from 'typebox';

export const StartQuery = Type.Object({ t: Type.Optional(Type.String({ description: 'the signed link value' })) });
export type StartQuery = Static<typeof StartQuery>;

export const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
});
export type CallbackQuery = Static<typeof CallbackQuery>;
