/**
 * The ConfigMap as the truth of weights (docs/architecture.md). When the router runs from a
 * ConfigMap, every weight change it makes — a PUT of weights, a rollout step, a roll back — is
 * written to that ConfigMap first, by a PUT guarded by the resourceVersion it read (a concurrent
 * change makes it read again), and every replica applies it through its watch. So `split`,
 * `promote --plan as-is` and the trees, which read the ConfigMap, read what the routers serve.
 *
 * The rollout leader writes each rollout's durable state in the same PUT, under the key
 * `rollout-state.json`: weights and state change together or not at all, and a new leader
 * resumes from there (./rollout.ts). Plain undici like ./kube.ts: no client-node in the bundle.
 */
import { request } from 'undici';
import { HttpError } from './http';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { RolloutSpec } from '../core/rollout/rollout';
import type { RolloutStatus } from '../shared/report';
import {
  ROLLOUT_STATE_KEY,
  configKey,
  kubeAgent,
  kubeHeaders,
  type ConfigMap,
  type KubeConnection,
} from './kube';

/** A rollout as the leader keeps it in the ConfigMap: its state and its settings (overrides included). */
export interface DurableRollout {
  status: RolloutStatus;
  spec: RolloutSpec;
  /** The replica that wrote it. */
  leader: string;
  ts: number;
}

/** Experiment name → its rollout. */
export type DurableRollouts = Record<string, DurableRollout>;

/** The rollout in the ConfigMap is not the one this writer last saw: another leader moved it. */
export class StaleRolloutError extends Error {}

/** The router may not update its ConfigMap (RBAC): a 500 that names the missing right. */
export class ConfigMapForbiddenError extends HttpError {
  constructor(message: string) {
    super(500, message);
  }
}

export interface ConfigMapChange {
  experiment: string;
  /** The experiment's new weights (all variants), written into the config. */
  weights?: Record<string, number>;
  /** The experiment's rollout to keep (null removes it). */
  rollout?: DurableRollout | null;
  /** Throws when the stored rollout is not the one expected (optimistic lock on the rollout). */
  expect?: (stored: DurableRollout | undefined) => void;
  /** Checked before every attempt: throws when this replica may no longer write (lost the lead). */
  mayWrite?: () => void;
  /** Changes other keys of the data read, in the same PUT (each attempt: ./runsTruth.ts). */
  edit?: (data: Record<string, string>) => void;
}

const ATTEMPTS = 5;

export class ConfigMapTruth {
  private readonly agent;
  private readonly url: string;
  private readonly where: string;
  private latest: Record<string, string> | undefined;
  private readonly observers: ((data: Record<string, string>) => void)[] = [];

  private warnedForbidden = false;

  constructor(
    private readonly conn: KubeConnection,
    namespace: string,
    name: string,
    private readonly key: string | undefined,
    /**
     * A router without replicas (no lease) whose Role predates the update right: a refused write
     * leaves the change in memory only, as before, with one warning; replicas always fail.
     */
    private readonly sole?: { warn: (message: string) => void },
  ) {
    this.agent = kubeAgent(conn, 10_000);
    this.url = `${conn.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
    this.where = `ConfigMap ${namespace}/${name}`;
  }

  /** The data of a version the watch saw (the newest one wins). */
  observe(data: Record<string, string>): void {
    this.latest = data;
    for (const observer of this.observers) observer(data);
  }

  /** Calls `observer` with every version the watch sees from now on. */
  onObserve(observer: (data: Record<string, string>) => void): void {
    this.observers.push(observer);
  }

  /** The data of the newest version seen (by the watch or by a write). */
  get observed(): Record<string, string> | undefined {
    return this.latest;
  }

  /** The rollouts in the newest version seen (by the watch or by a write). */
  observedRollouts(): DurableRollouts {
    return parseRollouts(this.latest?.[ROLLOUT_STATE_KEY], this.where);
  }

  /** Reads the ConfigMap now and returns its rollouts (undefined before any was written there). */
  async readRollouts(): Promise<DurableRollouts | undefined> {
    const cm = await this.get();
    this.latest = cm.data ?? {};
    const text = this.latest[ROLLOUT_STATE_KEY];
    return text === undefined ? undefined : parseRollouts(text, this.where);
  }

  /**
   * Writes a change (weights and/or a rollout) in one PUT, reading again on a conflict; false when
   * a sole router may not write (the change then applies in memory only).
   */
  async write(change: ConfigMapChange): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      change.mayWrite?.();
      const cm = await this.get();
      const data = { ...cm.data };
      if (change.weights) {
        const key = configKey(data, this.key);
        data[key] = withWeights(data[key] ?? '', change.experiment, change.weights, this.where);
      }
      if (change.rollout !== undefined || change.expect) {
        const rollouts = parseRollouts(data[ROLLOUT_STATE_KEY], this.where);
        change.expect?.(rollouts[change.experiment]);
        if (change.rollout === null) delete rollouts[change.experiment];
        else if (change.rollout) rollouts[change.experiment] = change.rollout;
        // Kept when empty: its presence says the ConfigMap holds the rollouts (./rolloutHandover.ts).
        data[ROLLOUT_STATE_KEY] = JSON.stringify(rollouts);
      }
      change.edit?.(data);
      const res = await request(`${this.url}?fieldManager=model-canary-router`, {
        method: 'PUT',
        dispatcher: this.agent,
        headers: { ...kubeHeaders(this.conn), 'content-type': 'application/json' },
        body: JSON.stringify({ ...cm, data }),
      });
      const body = await res.body.text();
      if (res.statusCode === 200) {
        this.latest = data;
        return true;
      }
      if (res.statusCode === 409 && attempt < ATTEMPTS) continue;
      if (res.statusCode === 403) {
        const message = `the router may not update ${this.where} (HTTP 403) — grant its service account "update" on it (the stack's Role does; re-run \`model-canary up\`)`;
        if (!this.sole) throw new ConfigMapForbiddenError(message);
        if (!this.warnedForbidden)
          this.sole.warn(`${message}; until then weight changes apply in this router only`);
        this.warnedForbidden = true;
        return false;
      }
      throw new Error(`updating ${this.where} failed: HTTP ${res.statusCode} ${body.slice(0, 300)}`);
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  private async get(): Promise<ConfigMap & Record<string, unknown>> {
    const res = await request(this.url, { dispatcher: this.agent, headers: kubeHeaders(this.conn) });
    const body = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`reading ${this.where} failed: HTTP ${res.statusCode} ${body.slice(0, 300)}`);
    return JSON.parse(body) as ConfigMap & Record<string, unknown>;
  }
}

/** The rollouts of the state key; a broken value reads as none, with the reason in a warning upstream. */
function parseRollouts(text: string | undefined, where: string): DurableRollouts {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as DurableRollouts;
  } catch (err) {
    throw new Error(
      `${where} key ${ROLLOUT_STATE_KEY} is not a JSON object of rollouts (${(err as Error).message}) — delete the key to start without rollout state`,
    );
  }
}

/**
 * The config text with one experiment's variant weights replaced, comments and layout kept (the
 * CLI's reload markers are comments).
 */
export function withWeights(
  text: string,
  experiment: string,
  weights: Record<string, number>,
  where: string,
): string {
  const doc = parseDocument(text);
  const experiments = doc.get('experiments');
  const entry = isSeq(experiments)
    ? experiments.items.find((e) => isMap(e) && e.get('name') === experiment)
    : undefined;
  const variants = isMap(entry) ? entry.get('variants') : undefined;
  if (!isSeq(variants))
    throw new Error(`${where} has no experiment ${experiment} with variants: it was changed meanwhile`);
  for (const v of variants.items) {
    if (!isMap(v)) continue;
    const name = v.get('name');
    if (typeof name === 'string' && name in weights) v.set('weight', weights[name]);
  }
  return doc.toString();
}
