import { parseArgs } from 'node:util';
import type { Command, CommandInput, OptionSpec } from './command.ts';
import { UsageError } from './errors.ts';

/** Every command takes these. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', description: 'print one JSON document (errors too, on stderr as {"error","message"})' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/** The command's arguments, strictly: an unknown option, a missing value or a stray argument is a usage error. */
export function parseCommandArgs(command: Command, argv: readonly string[]): Omit<CommandInput, 'env'> {
  const options = Object.fromEntries(
    Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([name, o]) => [
      name,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    // parseArgs says what was wrong (an unknown option, a missing value); its message is about our own options only.
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as CommandInput['values'];
  if (values.help) return { values, positionals: parsed.positionals };
  const wanted = command.positionals;
  if (parsed.positionals.length < wanted.length) throw new UsageError(`missing ${wanted.slice(parsed.positionals.length).join(' ')}`);
  if (parsed.positionals.length > wanted.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[wanted.length])}`);
  return { values, positionals: parsed.positionals };
}
