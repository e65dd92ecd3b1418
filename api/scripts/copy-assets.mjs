// tsc emits only JavaScript; the Lua scripts ride along beside the modules that load them.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );

for (const file of walk('src').filter((f) => f.endsWith('.lua'))) {
  cpSync(file, file.replace(/^src/, 'dist'));
}
