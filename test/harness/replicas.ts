/**
 * Router replicas on loopback for the replica tests and benches: N real router processes
 * (`dist/router.js`), each with its own data directory and `MODEL_CANARY_REPLICA=r<i>`, told
 * about each other with `--peers` and about a fixed leader with `--leader` (the Lease is
 * another test's subject). Ports are picked before the start, since every replica needs them all.
 */
import * as net from 'node:net';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from './router';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export interface Replica {
  name: string;
  port: number;
  url: string;
  dir: string;
  configFile: string;
  router: RunningRouter;
}

export interface ReplicaSet {
  replicas: Replica[];
  peersFlag: string;
  leader: string;
  /** (Re)starts replica `i` on its port and data directory. */
  start(i: number): Promise<Replica>;
  stop(): Promise<void>;
}

/** Starts `n` replicas of a router with `config` (its `listen` is replaced); the first leads. */
export async function startReplicas(n: number, config: RouterConfigInput): Promise<ReplicaSet> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freeLoopbackPort();
    if (!ports.includes(p)) ports.push(p);
  }
  const names = ports.map((_, i) => `r${i}`);
  const peersFlag = names.map((name, i) => `${name}=http://127.0.0.1:${ports[i]}`).join(',');
  const leader = names[0]!;
  const replicas: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const dir = await routerDir();
    const configFile = await writeRouterConfig(dir, { ...config, listen: `127.0.0.1:${ports[i]}` });
    replicas.push({
      name: names[i]!,
      port: ports[i]!,
      url: `http://127.0.0.1:${ports[i]}`,
      dir,
      configFile,
      router: undefined!,
    });
  }
  const set: ReplicaSet = {
    replicas,
    peersFlag,
    leader,
    async start(i) {
      const r = replicas[i]!;
      r.router = await startRouter(r.configFile, {
        args: ['--config', r.configFile, '--peers', peersFlag, '--leader', leader],
        env: { MODEL_CANARY_REPLICA: r.name },
      });
      return r;
    },
    async stop() {
      await Promise.all(replicas.map((r) => r.router?.stop()));
    },
  };
  for (let i = 0; i < n; i++) await set.start(i);
  return set;
}
