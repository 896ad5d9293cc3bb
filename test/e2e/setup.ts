// Mocha global setup for the e2e run: start from an empty test-results/e2e (screenshots).
import * as fs from 'node:fs';
import { resultsDir } from './codeServer';

export function mochaGlobalSetup(): void {
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
}
