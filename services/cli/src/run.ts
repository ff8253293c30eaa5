import { parseCommandArgs } from './args.ts';
import type { Command, Env } from './command.ts';
import { EXIT, UsageError } from './errors.ts';
import { commandHelp, listHelp, usageOf } from './help.ts';
import { type Io, printError, printResult } from './output.ts';

/**
 * `pnpm bridge <command…> [options]`: finds the command by its leading words, parses
 * its options strictly, runs it, and says how it went in the exit code (0, 1, 2).
 * `help <command…>` is `<command…> --help`.
 */
export async function runCli(argv: readonly string[], io: Io & { env: Env }, commands: readonly Command[]): Promise<number> {
  if (argv[0] === 'help') return runCli([...argv.slice(1), '--help'], io, commands);
  const json = argv.includes('--json');
  const firstOption = argv.findIndex((a) => a.startsWith('-'));
  const words = firstOption < 0 ? [...argv] : argv.slice(0, firstOption);
  const command = commands.find((c) => c.path.every((word, i) => words[i] === word));
  if (!command) {
    // Nothing, or a group (`webhook`): the list of what there is under it.
    const group = commands.some((c) => c.path.length > 1 && c.path[0] === words[0]) ? [words[0] as string] : [];
    const unknown = words.length > group.length;
    if (!unknown && argv.some((a) => a === '--help' || a === '-h')) {
      io.stdout.write(`${listHelp(commands, group)}\n`);
      return EXIT.ok;
    }
    const why = unknown ? `unknown command "${words.join(' ')}"` : words.length === 0 ? 'the command comes first' : 'which one?';
    printError(io, new UsageError(why), json, listHelp(commands, group));
    return EXIT.usage;
  }
  let input: ReturnType<typeof parseCommandArgs>;
  try {
    input = parseCommandArgs(command, argv.slice(command.path.length));
  } catch (err) {
    printError(io, err, json, `usage: ${usageOf(command)}\n(${['pnpm bridge', ...command.path, '--help'].join(' ')} says more)`);
    return EXIT.usage;
  }
  if (input.values.help) {
    io.stdout.write(`${commandHelp(command)}\n`);
    return EXIT.ok;
  }
  try {
    const run = await command.load();
    printResult(io, await run({ ...input, env: io.env }), json);
    return EXIT.ok;
  } catch (err) {
    // A usage error found only once the values were looked at (both --preset and --production, say): nothing was done.
    const usage = err instanceof UsageError;
    printError(io, err, json, usage ? `usage: ${usageOf(command)}` : undefined);
    return usage ? EXIT.usage : EXIT.failed;
  }
}
