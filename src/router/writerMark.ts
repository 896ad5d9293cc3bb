/**
 * `writer.pid` in the data directory while a router appends to its log, so `model-canary log
 * repair` can refuse to rewrite segments under a running router. A router killed without a
 * chance to remove it leaves a pid that is no longer alive, which the repair ignores.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WRITER_FILE } from '../core/log/scan';

export function markWriter(dir: string): void {
  try {
    writeFileSync(join(dir, WRITER_FILE), `${process.pid}\n`);
  } catch {
    // advisory only: a read-only mark never stops the router
  }
}

export function clearWriter(dir: string): void {
  rmSync(join(dir, WRITER_FILE), { force: true });
}
