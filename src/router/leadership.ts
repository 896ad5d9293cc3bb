/**
 * Who leads the router's replicas. On Kubernetes several replicas serve one experiment; exactly
 * one of them runs the rollout controller and builds the experiment's merged report (docs/
 * kubernetes.md, "Replicas"). A single router process (local, or one replica) leads itself.
 *
 * The seam between the two halves of that design: the Lease loop implements `Leadership`, and
 * the rollout controller and the merged report only read it.
 */

export interface Leadership {
  /** This replica's identity: `MODEL_CANARY_REPLICA` (the Pod's name), else `local`. */
  readonly self: string;
  /** Whether this replica leads now. */
  isLeader(): boolean;
  /** The current leader's identity, when one is known. */
  leader(): string | undefined;
  /** Called on every change of leader (to or from this replica too); returns the unsubscribe. */
  onChange(listener: (leader: string | undefined) => void): () => void;
  /** Gives the lead up (on shutdown), so another replica takes over without waiting for expiry. */
  stop(): Promise<void>;
}

/** The identity of this replica, from the environment the manifests set. */
export function replicaIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return env.MODEL_CANARY_REPLICA?.trim() || 'local';
}

/** A router that is the only one: it always leads. */
export function soleLeadership(self = replicaIdentity()): Leadership {
  return {
    self,
    isLeader: () => true,
    leader: () => self,
    onChange: () => () => undefined,
    stop: async () => undefined,
  };
}
