/** A test's own copy of sample-models, the built CLI run in it, and its removal. */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, SAMPLE_MODELS } from './tools';

const CLI = join(REPO_ROOT, 'dist/cli.js');

/** sample-models copied into a new temporary folder (`prefix` + random), without its `.model-canary` state. */
export async function copySampleModels(prefix: string): Promise<string> {
  const ws = await mkdtemp(join(tmpdir(), prefix));
  await cp(SAMPLE_MODELS, ws, { recursive: true, filter: (src) => !src.includes('.model-canary') });
  return ws;
}

/** `model-canary ARGS --workspace <ws()>` from dist/cli.js, as users run it; never rejects. */
export function workspaceCli(ws: () => string, timeout: number) {
  return (...args: string[]) =>
    execa('node', [CLI, ...args, '--workspace', ws()], { reject: false, timeout });
}

/** Stops whatever the test started in the copy (`down`), then removes it. */
export async function removeSampleModels(ws: string): Promise<void> {
  await execa('node', [CLI, 'down', '--workspace', ws], { reject: false });
  await rm(ws, { recursive: true, force: true });
}
