/** Finds the kind binary: the setting, then PATH, then the copy tools/install-kind.sh caches. */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The kind binary to use; returns the bare name "kind" when none is found, so the runner reports not-found. */
export function resolveKindBinary(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (setting && setting.trim()) return setting.trim();
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'kind'))) return join(dir, 'kind');
  }
  const cache = join(env.MODEL_CANARY_CACHE ?? join(homedir(), '.cache/model-canary'), 'kind');
  const versions = existsSync(cache) ? readdirSync(cache).sort(compareVersions).reverse() : [];
  for (const v of versions) {
    if (existsSync(join(cache, v, 'kind'))) return join(cache, v, 'kind');
  }
  return 'kind';
}

function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
