/** Where the test tiers find the real binaries that tools/ provisions (pinned in tools/versions.env). */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '../..');
export const SAMPLE_MODELS = join(REPO_ROOT, 'sample-models');

/** The pinned versions from tools/versions.env. */
export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'tools/versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

export function toolCache(): string {
  return process.env.MODEL_CANARY_CACHE ?? join(homedir(), '.cache/model-canary');
}

/** The kind binary built by tools/install-kind.sh; a clear error when it is missing. */
export function kindBinary(): string {
  const file = join(toolCache(), 'kind', pinnedVersions().KIND_VERSION ?? '', 'kind');
  if (!existsSync(file))
    throw new Error(`kind is not provisioned at ${file} — run: bash tools/install-kind.sh`);
  return file;
}
