/**
 * Feedback and labels go to the replica that served their request, which records them in its own
 * log: each event is then in exactly one log, after its request, and the leader's merged report
 * counts it once (latest feedback wins within that log). A generated request id names its replica
 * (`<replica>~<uuid>`); for an id that names none (the client's own) the other replicas are asked
 * which one routed it, each once per post, before an unknown id is refused with 404. Every id is
 * resolved before anything is recorded or forwarded, so a refused post records nothing.
 */
import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
import { ADMIN_TOKEN_HEADER, INGEST_TOKEN_HEADER, routerPaths } from '../../shared/routerApi';
import { currentAdminToken } from '../admin';
import type { ExperimentRuntime } from '../config';
import type { RouterCore } from '../core';
import { HttpError } from '../http';
import { REQUESTS_PATH } from './adminEndpoints';
import { replicaOfId, replicasOf, type Replicas } from './index';
import type { Peer } from './peers';

/** Set on a post one replica forwards to another: the receiver records it or refuses it, never forwards. */
export const FORWARDED_HEADER = 'x-model-canary-forwarded';

export interface RemoteBatch<T> {
  peer: Peer;
  items: T[];
}

/**
 * Splits a post's items into those this replica attributes itself and those to forward, by the
 * replica that routed each request id.
 */
export async function splitByOwner<T extends { requestId: string }>(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  items: T[],
): Promise<{ mine: T[]; remote: RemoteBatch<T>[] }> {
  const replicas = replicasOf(core);
  if (!replicas || !replicas.active() || req.headers[FORWARDED_HEADER] !== undefined)
    return { mine: items, remote: [] };
  const owner = await owners(core, replicas, exp, [...new Set(items.map((i) => i.requestId))]);
  const mine: T[] = [];
  const remote = new Map<string, RemoteBatch<T>>();
  for (const item of items) {
    const peer = owner.get(item.requestId);
    if (!peer) mine.push(item);
    else {
      let batch = remote.get(peer.name);
      if (!batch) remote.set(peer.name, (batch = { peer, items: [] }));
      batch.items.push(item);
    }
  }
  return { mine, remote: [...remote.values()] };
}

/** Request id → the other replica that routed it (ids this replica routed, or nobody did, are absent). */
async function owners(
  core: RouterCore,
  replicas: Replicas,
  exp: ExperimentRuntime,
  ids: string[],
): Promise<Map<string, Peer>> {
  const others = replicas.others();
  const byName = new Map(others.map((p) => [p.name, p]));
  const ask = new Map<string, Set<string>>(others.map((p) => [p.name, new Set()]));
  const unresolved: string[] = [];
  for (const id of ids) {
    const named = replicaOfId(id);
    if (named === replicas.self) continue;
    if (named !== undefined && byName.has(named)) {
      ask.get(named)!.add(id);
      continue;
    }
    const found = await core.index.lookup(id);
    if (found?.experiment !== exp.name) unresolved.push(id);
  }
  for (const set of ask.values()) for (const id of unresolved) set.add(id);
  const answers = await Promise.all(
    others
      .filter((p) => ask.get(p.name)!.size > 0)
      .map(async (p) => ({
        peer: p,
        known: await knownBy(core, replicas, p, exp.name, [...ask.get(p.name)!]),
      })),
  );
  const result = new Map<string, Peer>();
  const silent: string[] = [];
  for (const { peer, known } of answers) {
    if (known instanceof Error) silent.push(`${peer.name} (${known.message})`);
    else for (const id of known) if (!result.has(id)) result.set(id, peer);
  }
  // An id no replica that answered knows may be one that did not answer: refuse it as unavailable, not unknown.
  const missing = ids.filter((id) => !result.has(id) && !isMine(id, replicas, unresolved, byName));
  if (missing.length > 0 && silent.length > 0)
    throw new HttpError(
      503,
      `the replica${silent.length > 1 ? 's' : ''} ${silent.join(', ')} did not answer, and the request id "${missing[0]}" may be one of theirs — retry shortly; nothing was recorded`,
      { 'retry-after': '2' },
    );
  return result;
}

function isMine(id: string, replicas: Replicas, unresolved: string[], byName: Map<string, Peer>): boolean {
  const named = replicaOfId(id);
  if (named === replicas.self) return true;
  if (named !== undefined && byName.has(named)) return false;
  return !unresolved.includes(id);
}

async function knownBy(
  core: RouterCore,
  replicas: Replicas,
  peer: Peer,
  experiment: string,
  ids: string[],
): Promise<Set<string> | Error> {
  try {
    const res = await request(`${peer.url}${REQUESTS_PATH}`, {
      method: 'POST',
      dispatcher: replicas.agent,
      headers: {
        'content-type': 'application/json',
        [ADMIN_TOKEN_HEADER]: currentAdminToken(core.settings) ?? '',
      },
      body: JSON.stringify({ experiment, ids }),
      headersTimeout: 2_000,
      bodyTimeout: 5_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    return new Set((JSON.parse(text) as { known: string[] }).known);
  } catch (err) {
    return err as Error;
  }
}

/** Posts each batch to its replica; resolves with how many items they accepted. */
export async function forwardToOwners<T>(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  kind: 'feedback' | 'labels',
  batches: RemoteBatch<T>[],
): Promise<number> {
  if (batches.length === 0) return 0;
  const replicas = replicasOf(core)!;
  const ingest = req.headers[INGEST_TOKEN_HEADER];
  const accepted = await Promise.all(
    batches.map(async ({ peer, items }) => {
      let status: number;
      let text: string;
      try {
        const res = await request(`${peer.url}${routerPaths[kind](exp.name)}`, {
          method: 'POST',
          dispatcher: replicas.agent,
          headers: {
            'content-type': 'application/json',
            [FORWARDED_HEADER]: replicas.self,
            ...(typeof ingest === 'string' ? { [INGEST_TOKEN_HEADER]: ingest } : {}),
          },
          body: JSON.stringify(items),
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        throw new HttpError(
          503,
          `the replica ${peer.name}, which served ${items.length} of these requests, did not answer (${(err as Error).message}) — retry: a request's latest ${kind === 'feedback' ? 'feedback' : 'label'} counts, so a repeat is not counted twice`,
          { 'retry-after': '2' },
        );
      }
      if (status !== 202) {
        let error = text.slice(0, 300);
        try {
          error = (JSON.parse(text) as { error?: string }).error ?? error;
        } catch {
          // not JSON: keep the text
        }
        throw new HttpError(status >= 500 ? 503 : status, `replica ${peer.name}: ${error}`);
      }
      return (JSON.parse(text) as { accepted: number }).accepted;
    }),
  );
  return accepted.reduce((a, b) => a + b, 0);
}
