// pnpm bridge <command> — the operator CLI: its commands, wired to the process.
import { COMMANDS } from './commands.ts';
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, COMMANDS);
// Whatever still holds the loop (a keep-alive socket) does not hold the operator's shell.
setTimeout(() => process.exit(), 2_000).unref();
