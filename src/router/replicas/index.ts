/**
 * The router's replicas (docs/kubernetes.md, "Replicas: one report"): who the others are
 * (./peers.ts), the merged report the leader builds (./aggregator.ts), the request ids that
 * name the replica that served them, and the forwarding of feedback and labels to it
 * (./forward.ts). A router started without peers has none of this and works alone.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import type { Logger, RouterCore } from '../core';
import { Aggregator, type AggregatorOptions } from './aggregator';
import type { Peer, Peers } from './peers';

const registry = new WeakMap<RouterCore, Replicas>();

/** The replicas a router state belongs to, when it was started with peers. */
export function replicasOf(core: RouterCore): Replicas | undefined {
  return registry.get(core);
}

/** Between the replica's identity and the random part of a generated request id. */
export const REPLICA_SEPARATOR = '~';

/** A new request id: `<replica>~<uuid>` when the router has peers (Pod names hold no "~"), else a UUID. */
export function newRequestId(core: RouterCore): string {
  return registry.has(core) ? `${core.leadership.self}${REPLICA_SEPARATOR}${randomUUID()}` : randomUUID();
}

/** The replica a request id names, if it names one. */
export function replicaOfId(id: string): string | undefined {
  const at = id.indexOf(REPLICA_SEPARATOR);
  return at > 0 ? id.slice(0, at) : undefined;
}

export class Replicas {
  /** Pooled connections to the other replicas. */
  readonly agent = new Agent({ connections: 16, headersTimeout: 5_000, bodyTimeout: 10_000 });
  readonly aggregator: Aggregator;

  constructor(
    readonly core: RouterCore,
    readonly peers: Peers,
    readonly logger: Logger,
    opts: AggregatorOptions = {},
  ) {
    this.aggregator = new Aggregator(core, peers, this.agent, logger, opts);
    registry.set(core, this);
    core.merged = this.aggregator;
  }

  get self(): string {
    return this.core.leadership.self;
  }

  /** Whether another replica is known now. */
  active(): boolean {
    return this.aggregator.active();
  }

  /** The other replicas known now. */
  others(): Peer[] {
    return this.peers.list().filter((p) => p.name !== this.self);
  }

  peer(name: string): Peer | undefined {
    return this.peers.list().find((p) => p.name === name);
  }

  start(): void {
    this.aggregator.start();
  }

  async close(): Promise<void> {
    await this.aggregator.stop();
    await this.peers.close();
    await this.agent.close();
  }
}
