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
    parsed = parseArgs({ args: joinDashValues(argv, options), options, strict: true, allowPositionals: true });
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

/**
 * `--name -value` as `--name=-value` where --name takes a value and -value is none of our options:
 * a connection id is base64url and starts with "-" once in 64, and parseArgs refuses it as ambiguous.
 * `--connection --json` (a forgotten value) stays the usage error it is.
 */
function joinDashValues(argv: readonly string[], options: Record<string, { type: string; short?: string }>): string[] {
  const known = new Set(Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const takesValue = token.startsWith('--') && options[token.slice(2)]?.type === 'string';
    if (takesValue && next?.startsWith('-') && next !== '--' && !known.has(next.split('=')[0] as string)) {
      out.push(`${token}=${next}`);
      i++;
    } else out.push(token);
  }
  return out;
}
