/**
 * Leader election among the router's replicas on a `coordination.k8s.io/v1` Lease
 * (`<release>-router`), the protocol client-go's leaderelection package follows, in a small loop
 * on plain undici like ./kube.ts (client-node would add megabytes to the router bundle for it).
 *
 * - The holder renews every duration/3 (PUT guarded by resourceVersion; a 409 reads again).
 * - Another replica takes the Lease when its holder is empty (released on SIGTERM), or when the
 *   Lease has not changed for `leaseDurationSeconds` as measured on this replica's own clock
 *   from the moment it saw the last change, so clock skew between nodes cannot shorten a lease.
 * - A holder that could not renew for 2/3 of the duration (counted from the start of its last
 *   successful renewal) stops leading on its own, before anyone else may take over: a
 *   partitioned old leader never acts beside a new one.
 *
 * Followers poll every duration/10, so after a holder dies another replica leads within the
 * lease duration plus two polls of its last renewal (≤ 18 s with the default 15 s).
 */
import { request, type Agent } from 'undici';
import { kubeAgent, kubeHeaders, type KubeConnection } from './kube';
import type { Leadership } from './leadership';

export const DEFAULT_LEASE_SECONDS = 15;

export interface LeaseOptions {
  conn: KubeConnection;
  namespace: string;
  name: string;
  /** This replica's identity (the Pod's name). */
  self: string;
  durationSeconds?: number;
  warn: (message: string) => void;
  info: (message: string) => void;
}

interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseLeadership implements Leadership {
  readonly self: string;
  private readonly durationMs: number;
  private readonly agent: Agent;
  private readonly url: string;
  private readonly where: string;
  private holder: string | undefined;
  private leading = false;
  /** Local time at the start of the last successful acquire or renew. */
  private renewedAt = 0;
  /** The last Lease version seen, and the local time it was first seen. */
  private observed: { key: string; at: number } | undefined;
  private readonly listeners = new Set<(leader: string | undefined) => void>();
  private announced: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private cycle: Promise<void> | undefined;
  private stopped = false;
  private lastError = '';

  constructor(private readonly opts: LeaseOptions) {
    this.self = opts.self;
    const seconds = opts.durationSeconds ?? DEFAULT_LEASE_SECONDS;
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new Error(`the lease duration must be at least 1 second, got ${seconds}`);
    this.durationMs = seconds * 1000;
    // A request must not outlive the renew deadline: a hung call would keep a stale holder.
    this.agent = kubeAgent(opts.conn, Math.max(500, Math.round(this.renewDeadlineMs / 2)));
    const ns = encodeURIComponent(opts.namespace);
    this.url = `${opts.conn.server}/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    this.where = `Lease ${opts.namespace}/${opts.name}`;
  }

  get renewEveryMs(): number {
    return this.durationMs / 3;
  }
  get retryEveryMs(): number {
    return Math.max(100, this.durationMs / 10);
  }
  get renewDeadlineMs(): number {
    return (this.durationMs * 2) / 3;
  }

  isLeader(): boolean {
    return this.leading && Date.now() < this.renewedAt + this.renewDeadlineMs;
  }

  leader(): string | undefined {
    if (this.isLeader()) return this.self;
    return this.holder && this.holder !== this.self ? this.holder : undefined;
  }

  onChange(listener: (leader: string | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the loop: the first attempt now, then every renew or retry period. */
  start(): void {
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      this.cycle = this.attempt().catch((err: unknown) => this.failed(err));
      await this.cycle;
      this.announce();
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), this.isLeader() ? this.renewEveryMs : this.retryEveryMs);
    };
    void loop();
    // Losing the lead by deadline must be noticed even while a request hangs.
    this.watchdog = setInterval(() => this.announce(), this.retryEveryMs);
    this.watchdog.unref();
  }

  /** Stops the loop; a holder releases the Lease so another replica takes over at its next poll. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    // Shutdown must not hang on an API server that does not answer: the Lease expires then.
    const bounded = (p: Promise<unknown>): Promise<unknown> =>
      Promise.race([p, new Promise((r) => setTimeout(r, 2_000).unref())]);
    await bounded(this.cycle ?? Promise.resolve());
    if (this.isLeader()) {
      this.leading = false;
      await bounded(
        this.release().catch((err: unknown) =>
          this.opts.warn(
            `${this.where}: releasing it failed (${(err as Error).message}); it expires instead`,
          ),
        ),
      );
    }
    this.leading = false;
    this.announce();
    await this.agent.close().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    const start = Date.now();
    const lease = await this.get();
    if (!lease) {
      const created = await this.send('POST', this.url, this.leaseFor(undefined, start));
      if (created.status === 201) this.won(start, created.lease);
      return; // 409: another replica created it first; read it at the next poll
    }
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${spec.leaseTransitions ?? 0}`;
    if (this.observed?.key !== key) this.observed = { key, at: start };
    this.holder = spec.holderIdentity || undefined;
    const durationMs = (spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    const expired = !this.holder || start >= this.observed.at + durationMs;
    if (this.holder !== this.self && !expired) {
      this.leading = false;
      return;
    }
    const res = await this.send(
      'PUT',
      `${this.url}/${encodeURIComponent(this.opts.name)}`,
      this.leaseFor(lease, start),
    );
    if (res.status === 200) this.won(start, res.lease);
    // 409: the Lease changed since we read it (another replica renewed or took it); read again next time.
  }

  private won(start: number, lease: LeaseObject | undefined): void {
    if (this.stopped) return; // an attempt that outlived stop(): the Lease expires
    if (!this.isLeader()) this.opts.info(`${this.where}: ${this.self} leads the replicas`);
    this.leading = true;
    this.renewedAt = start;
    this.holder = this.self;
    const spec = lease?.spec ?? {};
    this.observed = {
      key: `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${spec.leaseTransitions ?? 0}`,
      at: start,
    };
    this.lastError = '';
  }

  /** The Lease this replica writes: renewed when it holds it, else taken over. */
  private leaseFor(current: LeaseObject | undefined, now: number): LeaseObject {
    const spec = current?.spec ?? {};
    const renewing = spec.holderIdentity === this.self;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.opts.name,
        namespace: this.opts.namespace,
        ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
      spec: {
        holderIdentity: this.self,
        leaseDurationSeconds: this.durationMs / 1000,
        acquireTime: renewing && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (current && !renewing ? 1 : 0),
      },
    };
  }

  private async release(): Promise<void> {
    const lease = await this.get();
    if (!lease || lease.spec?.holderIdentity !== this.self) return;
    const now = Date.now();
    // client-go's release: no holder, a 1 s duration, renewed now — the next poll takes it.
    const released: LeaseObject = {
      ...lease,
      spec: {
        leaseDurationSeconds: 1,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: lease.spec.leaseTransitions ?? 0,
      },
    };
    const res = await this.send('PUT', `${this.url}/${encodeURIComponent(this.opts.name)}`, released);
    if (res.status === 200) this.opts.info(`${this.where}: ${this.self} released the lead`);
  }

  private async get(): Promise<LeaseObject | undefined> {
    const res = await request(`${this.url}/${encodeURIComponent(this.opts.name)}`, {
      dispatcher: this.agent,
      headers: kubeHeaders(this.opts.conn),
    });
    const body = await res.body.text();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw new Error(httpFailure('reading', res.statusCode, body));
    return JSON.parse(body) as LeaseObject;
  }

  private async send(
    method: 'POST' | 'PUT',
    url: string,
    lease: LeaseObject,
  ): Promise<{ status: number; lease?: LeaseObject }> {
    const res = await request(url, {
      method,
      dispatcher: this.agent,
      headers: { ...kubeHeaders(this.opts.conn), 'content-type': 'application/json' },
      body: JSON.stringify(lease),
    });
    const body = await res.body.text();
    if (res.statusCode === 200 || res.statusCode === 201)
      return { status: res.statusCode, lease: JSON.parse(body) as LeaseObject };
    if (res.statusCode === 409) return { status: 409 };
    throw new Error(httpFailure(method === 'POST' ? 'creating' : 'updating', res.statusCode, body));
  }

  private failed(err: unknown): void {
    const message = (err as Error).message;
    // Say it once per kind of failure, not at every poll.
    if (message !== this.lastError)
      this.opts.warn(
        `${this.where}: ${message}; ${this.isLeader() ? 'still leading until the renew deadline' : 'retrying'}`,
      );
    this.lastError = message;
  }

  private announce(): void {
    const now = this.leader();
    if (now === this.announced) return;
    if (this.announced === this.self && now !== this.self)
      this.opts.warn(`${this.where}: ${this.self} no longer leads${now ? `; ${now} does` : ''}`);
    this.announced = now;
    for (const listener of this.listeners) listener(now);
  }
}

function httpFailure(doing: string, status: number, body: string): string {
  const hint =
    status === 403
      ? " — grant the router's service account get, create and update on leases (the stack's Role does)"
      : '';
  return `${doing} the Lease failed: HTTP ${status} ${body.slice(0, 200)}${hint}`;
}
