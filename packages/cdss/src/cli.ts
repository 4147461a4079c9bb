import { isCdssError } from '@yijian/emr';
import { commands } from './commands/index.js';
import type { CommandContext } from './commands/types.js';
import { VERSION } from './version.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `yijian ${VERSION} — 医鉴 Chinese clinical decision support and EMR quality control\n\nUsage: yijian <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "yijian <command> --help" for a command's options.\n`;
}

export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ctx.out(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    ctx.out(`${VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    ctx.err(`yijian: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.out(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, ctx);
  } catch (error) {
    if (isCdssError(error)) {
      ctx.err(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
      return 1;
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      ctx.err(`yijian ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    throw error;
  }
}
