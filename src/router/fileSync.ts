/** Durable writes: the whole buffer, fdatasync, and a directory's entries (for new and renamed files). */
import { closeSync, openSync } from 'node:fs';
import * as fs from 'node:fs';

/** The whole buffer, synchronously (the event log's write at the end of a turn: page cache, not disk). */
export function writeAllSync(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

// A new segment's directory entry must be durable too, or an fsynced file could vanish on a crash.
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported on every platform (Windows); the file fsync still holds
  }
}
