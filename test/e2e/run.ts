// `npm run test:e2e` entry: runs mocha with test/e2e/.mocharc.json (extra arguments are passed on,
// e.g. `npm run test:e2e -- --grep Doctor`). Same as `npx mocha --config test/e2e/.mocharc.json`.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './codeServer';

const mocha = path.join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
const res = spawnSync(
  process.execPath,
  [mocha, '--config', 'test/e2e/.mocharc.json', ...process.argv.slice(2)],
  {
    cwd: repoRoot,
    stdio: 'inherit',
  },
);
process.exit(res.status ?? 1);
