/**
 * `npm run generate`: writes the files that copy facts from elsewhere (see
 * each generator), so a change is made once and generated everywhere. The
 * unit tests fail while a committed copy differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './config.js';
import { generatedNginxFiles } from './nginx-config.js';
import { withBenchSettings, withConfiguration } from './readme-config.js';
import { K6_SCRIPTS_FILE, k6ScriptsConfigMaps } from '../../tools/k8s/k6-scripts.js';

const write = (path: string, content: string) => {
  writeFileSync(join(REPO_ROOT, path), content);
  process.stdout.write(`wrote ${path}\n`);
};

for (const [path, content] of Object.entries(generatedNginxFiles())) write(path, content);
write('README.md', withConfiguration(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')));
write('loadtest/README.md', withBenchSettings(readFileSync(join(REPO_ROOT, 'loadtest/README.md'), 'utf8')));
write(K6_SCRIPTS_FILE, k6ScriptsConfigMaps());
