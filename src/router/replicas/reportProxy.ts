/**
 * Report requests on a follower go to the leader, which holds the merged report: every replica
 * answers the same report, and the dashboard (which reads it through the router that served the
 * page) shows it too. `?local=1` asks a replica for the report of its own log alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import type { RouterCore } from '../core';
import { HttpError } from '../http';
import { REPLICA_HEADER } from './adminEndpoints';
import { FORWARDED_HEADER } from './forward';
import { replicasOf } from './index';

/** Answers a report request from the leader when this replica has peers and does not lead; false otherwise. */
export async function proxyReportToLeader(
  core: RouterCore,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const replicas = replicasOf(core);
  if (!replicas || !replicas.active() || core.leadership.isLeader()) return false;
  const retry = { 'retry-after': '2' };
  if (req.headers[FORWARDED_HEADER] !== undefined)
    throw new HttpError(
      503,
      `${replicas.self} was asked for the merged report but no longer leads — retry shortly`,
      retry,
    );
  const leader = core.leadership.leader();
  if (!leader)
    throw new HttpError(
      503,
      `no replica leads right now (a handover takes up to the lease duration), so there is no merged report — retry shortly, or add local=1 for the report of ${replicas.self}'s own events`,
      retry,
    );
  const peer = replicas.peer(leader);
  if (!peer)
    throw new HttpError(
      503,
      `the leader ${leader} is not among the replicas ${replicas.self} knows (${
        replicas.peers
          .list()
          .map((p) => p.name)
          .join(', ') || 'none'
      }) — retry shortly`,
      retry,
    );
  let status: number;
  let body: Buffer;
  let type: string;
  try {
    const answer = await request(`${peer.url}${req.url ?? '/'}`, {
      dispatcher: replicas.agent,
      headers: { [FORWARDED_HEADER]: replicas.self, accept: 'application/json' },
      headersTimeout: 5_000,
      bodyTimeout: 10_000,
    });
    status = answer.statusCode;
    body = Buffer.from(await answer.body.arrayBuffer());
    type = String(answer.headers['content-type'] ?? 'application/json');
  } catch (err) {
    throw new HttpError(
      503,
      `the leader ${leader} did not answer (${(err as Error).message}) — retry shortly`,
      retry,
    );
  }
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, [REPLICA_HEADER]: leader });
  res.end(body);
  return true;
}
