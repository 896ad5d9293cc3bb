import { join } from 'node:path';
import { cacheDir, main } from './main';

// Only ever runs bundled (dist/cli.js), where __dirname is the dist folder.
void main(process.argv.slice(2), { routerScript: join(__dirname, 'router.js'), cacheDir: cacheDir() }).then(
  (code) => (process.exitCode = code),
);
