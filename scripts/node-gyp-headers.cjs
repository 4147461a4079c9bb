// pnpm 12 ignores npm's `nodedir` setting, so node-gyp (better-sqlite3) would download Node's headers.
// Where the system ships them (Debian's nodejs: /usr/include/node), point node-gyp's cache at them.
const { existsSync, mkdirSync, symlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');
const system = '/usr/include/node';
if (existsSync(join(system, 'node.h')) && !process.env.npm_config_nodedir) {
  const base =
    process.env.npm_config_devdir ||
    join(process.env.XDG_CACHE_HOME || join(os.homedir(), '.cache'), 'node-gyp');
  const dir = join(base, process.versions.node);
  if (!existsSync(join(dir, 'include', 'node', 'node.h'))) {
    mkdirSync(join(dir, 'include'), { recursive: true });
    symlinkSync(system, join(dir, 'include', 'node'));
    writeFileSync(join(dir, 'installVersion'), '11\n');
    console.log(`node-gyp headers: ${join(dir, 'include', 'node')} -> ${system}`);
  }
}
