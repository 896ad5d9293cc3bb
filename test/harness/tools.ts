/** Where the test tiers find the real binaries that tools/ provisions (pinned in tools/versions.env). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

/**
 * The Python of the tritonclient environment tools/install-tritonclient.sh provisions (any
 * Python minor version it was built for); a clear error when it is missing.
 */
export function tritonclientPython(): string {
  const v = pinnedVersions();
  const prefix = `tritonclient-${v.TRITONCLIENT_VERSION}-numpy-${v.TRITONCLIENT_NUMPY_VERSION}-py`;
  const dir = join(toolCache(), 'python');
  const found = existsSync(dir)
    ? readdirSync(dir).find((d) => d.startsWith(prefix) && existsSync(join(dir, d, '.complete')))
    : undefined;
  if (!found)
    throw new Error(
      `tritonclient ${v.TRITONCLIENT_VERSION} is not provisioned under ${dir} — run: bash tools/install-tritonclient.sh`,
    );
  return join(dir, found, 'bin/python');
}
