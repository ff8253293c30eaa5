/** An option of a command, for util.parseArgs and for its help. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value is, in the help (`--preset UUID`). */
  value?: string;
  description: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface CommandInput {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  env: Env;
}

/** What a command found or did: `json` for scripts (--json), `text` lines for people. */
export interface CommandResult {
  json: unknown;
  text: string[];
}

/** What a command does with its arguments. */
export type Run = (input: CommandInput) => Promise<CommandResult>;

/** One command: `pnpm bridge <path…> <args>`. What it is (for --help) apart from its code, loaded only to run it. */
export interface Command {
  path: readonly string[];
  /** One line, for the list of commands. */
  summary: string;
  /** What follows the path in the usage line, e.g. "UUID [--connection ID] [--force]". */
  args: string;
  /** Lines of help after the usage line: what it does, which settings it reads. */
  description: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  /** The positionals' names, in order: each one required, no others accepted. */
  positionals: readonly string[];
  /** Its code (and the packages it needs): loaded when it runs, so that --help and usage errors load nothing heavy. */
  load(): Promise<Run>;
}
