/**
 * The router's replica flags: `--peers name=url,...` (a static list: local runs and tests),
 * `--peers-service [<namespace>/]<name>` (the EndpointSlices of a headless Service, on
 * Kubernetes; the namespace defaults to MODEL_CANARY_NAMESPACE), and `--leader <name>` (a
 * fixed leader instead of the Lease, for tests and local runs). The identity of this replica is
 * MODEL_CANARY_REPLICA (./leadership.ts).
 */
import { replicaIdentity, type Leadership } from '../leadership';
import type { KubeConnection } from '../kube';
import { endpointSlicePeers, parsePeers, staticPeers, PeersError, type Peers } from './peers';

export const REPLICA_FLAGS = {
  peers: { type: 'string' },
  'peers-service': { type: 'string' },
  leader: { type: 'string' },
} as const;

export const REPLICA_USAGE = `       [--peers <name>=<url>,... | --peers-service [<namespace>/]<service>] [--leader <name>]
Replicas: the identity of this one is MODEL_CANARY_REPLICA; they share the admin token (docs/kubernetes.md).`;

export interface ReplicaFlags {
  peers?: string;
  'peers-service'?: string;
  leader?: string;
}

/** The peers the flags name (undefined: none, a single router); throws PeersError on a bad flag. */
export function peersFromFlags(
  flags: ReplicaFlags,
  connect: () => KubeConnection,
  warn: (m: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): (Peers & { ready?: Promise<void> }) | undefined {
  if (flags.peers !== undefined && flags['peers-service'] !== undefined)
    throw new PeersError('give --peers or --peers-service, not both');
  if (flags.peers !== undefined) {
    const peers = parsePeers(flags.peers);
    const self = replicaIdentity(env);
    // Otherwise this replica's events would be merged twice: once as itself, once as a peer.
    if (!peers.some((p) => p.name === self))
      throw new PeersError(
        `this replica is "${self}" (MODEL_CANARY_REPLICA), which --peers does not list (${peers.map((p) => p.name).join(', ')}) — set MODEL_CANARY_REPLICA to this replica's name in the list`,
      );
    return staticPeers(peers);
  }
  const service = flags['peers-service'];
  if (service === undefined) return undefined;
  const [a, b, ...rest] = service.split('/');
  const namespace = b === undefined ? env.MODEL_CANARY_NAMESPACE?.trim() : a;
  const name = b === undefined ? a : b;
  if (!namespace || !name || rest.length > 0)
    throw new PeersError(
      "--peers-service must be <namespace>/<service>, or <service> with MODEL_CANARY_NAMESPACE set (the manifests set it to the Pod's namespace)",
    );
  return endpointSlicePeers(connect(), namespace, name, warn);
}

/** A fixed leader (`--leader`): this replica leads when it is the one named. */
export function fixedLeadership(self: string, leader: string): Leadership {
  return {
    self,
    isLeader: () => self === leader,
    leader: () => leader,
    onChange: () => () => undefined,
    stop: async () => undefined,
  };
}
