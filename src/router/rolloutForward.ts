/**
 * A rollout action on a follower goes to the leader, which runs the rollout controller: through
 * the Service any replica takes the action. It uses the replicas' peers (./replicas); without
 * them, or while no leader is known, the follower answers 503 naming the leader
 * (./rolloutHandover.ts). A forwarded action is never forwarded again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { ADMIN_TOKEN_HEADER } from '../shared/routerApi';
import type { RouterCore } from './core';
import { HttpError } from './http';
import { replicasOf } from './replicas';
import { REPLICA_HEADER } from './replicas/adminEndpoints';
import { FORWARDED_HEADER } from './replicas/forward';

/** Sends the action to the leader and relays its answer; false when this replica acts (or refuses) itself. */
export async function forwardRolloutToLeader(
  core: RouterCore,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  adminToken: string,
): Promise<boolean> {
  const replicas = replicasOf(core);
  if (!replicas || core.leadership.isLeader() || req.headers[FORWARDED_HEADER] !== undefined) return false;
  const leader = core.leadership.leader();
  const peer = leader === undefined ? undefined : replicas.peer(leader);
  if (!peer) return false;
  let answer;
  try {
    answer = await request(`${peer.url}${req.url ?? '/'}`, {
      method: 'POST',
      dispatcher: replicas.agent,
      headers: {
        'content-type': 'application/json',
        [ADMIN_TOKEN_HEADER]: adminToken,
        [FORWARDED_HEADER]: replicas.self,
      },
      body,
    });
  } catch (err) {
    throw new HttpError(
      503,
      `the leader ${leader} did not answer (${(err as Error).message}) — retry shortly`,
      {
        'retry-after': '2',
      },
    );
  }
  const relayed = Buffer.from(await answer.body.arrayBuffer());
  res.writeHead(answer.statusCode, {
    'content-type': String(answer.headers['content-type'] ?? 'application/json'),
    'content-length': relayed.length,
    [REPLICA_HEADER]: peer.name,
  });
  res.end(relayed);
  return true;
}
