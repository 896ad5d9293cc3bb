/**
 * Watches the config file and hands every new valid version to `onChange`. The folder is
 * watched, not the file, because editors and `kubectl`-style tools replace a file by renaming
 * a new one over it, which ends a watch on the old inode. An invalid version is reported and
 * the running config stays.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

/** Calls `onChange(text)` when the file's content changes (debounced). */
export function watchConfigFile(
  file: string,
  initialText: string,
  onChange: (text: string) => Promise<void>,
  warn: (m: string) => void,
): ConfigWatcher {
  let last = initialText;
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const check = (): void => {
    running = running.then(async () => {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      // Missing for a moment while a tool replaces it; the next event brings it back.
      if (text === undefined || text === last) return;
      last = text;
      await onChange(text).catch((err: unknown) => warn(`config reload failed: ${(err as Error).message}`));
    });
  };
  const name = basename(file);
  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(check, 50);
  });
  watcher.on('error', (err) => warn(`watching ${file} stopped: ${err.message}`));
  // Some file systems (network mounts, some containers) deliver no events: poll as well.
  const poll = setInterval(check, 1_000);
  poll.unref();
  return {
    close() {
      clearTimeout(timer);
      clearInterval(poll);
      watcher.close();
    },
  };
}
