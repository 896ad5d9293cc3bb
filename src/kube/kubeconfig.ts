import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeContextInfo {
  name: string;
  cluster: string;
  /** The context's namespace, or `default` when it sets none (what kubectl would use). */
  namespace: string;
  user: string;
  /** API server URL of the context's cluster; undefined if the cluster entry is missing. */
  server: string | undefined;
  current: boolean;
}

/** The kubeconfig files kubectl would read: every entry of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p.length > 0);
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME || env.USERPROFILE || os.homedir();
  return [path.join(home, '.kube', 'config')];
}

/**
 * Loads and merges the kubeconfig files named by `env` (see kubeconfigPaths) with kubectl's rules: missing files
 * are skipped, the first file to define a cluster/user/context name wins, and so does the first current-context.
 * (client-node's loadFromDefault merges too, but throws on duplicate names, lets later files override
 * current-context and only reads process.env.)
 */
export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const merged = new KubeConfig();
  for (const file of kubeconfigPaths(env)) {
    if (!fs.existsSync(file)) continue;
    const part = new KubeConfig();
    try {
      part.loadFromFile(file); // also resolves relative cert/key paths against the file's directory
    } catch (err) {
      throw new Error(
        `cannot read the kubeconfig ${file}: ${(err as Error).message.split('\n')[0]} — fix the file, or leave it out of KUBECONFIG`,
      );
    }
    for (const c of part.getClusters()) if (!merged.getCluster(c.name)) merged.addCluster(c);
    for (const u of part.getUsers()) if (!merged.getUser(u.name)) merged.addUser(u);
    for (const c of part.getContexts()) if (!merged.getContextObject(c.name)) merged.addContext(c);
    if (!merged.getCurrentContext() && part.getCurrentContext())
      merged.setCurrentContext(part.getCurrentContext());
  }
  return merged;
}

/** Every context of `kc` with its cluster's server and whether it is the current one. */
export function listContexts(kc: KubeConfig): KubeContextInfo[] {
  const current = kc.getCurrentContext();
  return kc.getContexts().map((ctx) => ({
    name: ctx.name,
    cluster: ctx.cluster,
    namespace: ctx.namespace ?? 'default',
    user: ctx.user,
    server: kc.getCluster(ctx.cluster)?.server,
    current: ctx.name === current,
  }));
}

/** A copy of `kc` whose current context is `contextName`, so callers' KubeConfig is never mutated. */
export function forContext(kc: KubeConfig, contextName: string): KubeConfig {
  if (!kc.getContextObject(contextName)) {
    const known = kc.getContexts().map((c) => c.name);
    throw new Error(`Kubernetes context "${contextName}" not found (known: ${known.join(', ') || 'none'})`);
  }
  const scoped = new KubeConfig();
  scoped.loadFromOptions({
    clusters: kc.getClusters(),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: contextName,
  });
  return scoped;
}
