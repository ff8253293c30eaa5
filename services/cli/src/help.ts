import { COMMON_OPTIONS } from './args.ts';
import type { Command } from './command.ts';

const PROGRAM = 'pnpm bridge';

export const usageOf = (c: Command) => `${PROGRAM} ${[...c.path, c.args].filter(Boolean).join(' ')}`;

/** `pnpm bridge --help`, and the groups' (`pnpm bridge webhook --help`): the commands under that path. */
export function listHelp(commands: readonly Command[], under: readonly string[] = []): string {
  const shown = commands.filter((c) => under.every((word, i) => c.path[i] === word));
  const width = Math.max(...shown.map((c) => c.path.join(' ').length));
  return [
    `usage: ${PROGRAM} ${[...under, '<command>'].join(' ')} [options]`,
    '',
    under.length === 0 ? "The bridge's operator commands. Settings come from the same environment as the services." : 'Commands:',
    ...(under.length === 0 ? ['', 'Commands:'] : []),
    ...shown.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    `Every command takes --json (one JSON document for scripts) and --help. Exit codes: 0 done, 1 failed, 2 usage.`,
    `${PROGRAM} <command> --help says more.`,
  ].join('\n');
}

/** `pnpm bridge <command> --help`. */
export function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...options.map(([flag]) => flag.length));
  return [
    `usage: ${usageOf(command)}`,
    '',
    command.summary,
    ...command.description.map((line) => (line ? `${line}` : '')),
    '',
    'Options:',
    ...options.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`),
    '',
    'Exit codes: 0 done, 1 failed, 2 usage (nothing was done).',
  ].join('\n');
}
