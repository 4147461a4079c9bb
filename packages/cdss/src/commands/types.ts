/**
 * A CLI command. Each command group lives in its own file under `src/commands/` and is listed once
 * in `src/commands/index.ts`; the CLI dispatches `yijian <name> [sub] …` to it.
 */
export interface CommandContext {
  /** Write to stdout (a line break is not added). */
  out: (text: string) => void;
  /** Write to stderr. */
  err: (text: string) => void;
  /** Working directory the CLI was started in. */
  cwd: string;
}

export interface Command {
  /** First word after `yijian`, e.g. `analyze`, `kg`, `ner`. */
  name: string;
  /** One line for `yijian --help`. */
  summary: string;
  /** Full usage text for `yijian <name> --help`. */
  usage: string;
  /** Run with the words after the command name; returns the exit code. */
  run(args: string[], ctx: CommandContext): Promise<number>;
}
