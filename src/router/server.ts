/**
 * The router's HTTP server: dispatch of the V2 and API routes, slow-client limits, errors in
 * the V2 shape, and a graceful stop (stop accepting, let requests and mirrors finish, then
 * flush and fsync the log).
 */
import { handleRollout } from './admin';
import type { RolloutController } from './rollout';
import { defaultAssetDir, serveDashboard } from './dashboard';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { handleWeights } from './admin';
import { handleRuns } from './runs';
import type { RouterCore } from './core';
import { handleFeedback } from './feedback';
import { handleLabels } from './labels';
import { checkBoundary } from './boundary';
import { validTimestamp } from '../core/spec/domains';
import { HttpError, drainBody, headerOf, sendError, sendJson } from './http';
import { handleInfer, requestIdOf } from './infer';
import { endpointMetadata, endpointReadiness } from './models';
import { REQUEST_ID_HEADER } from '../shared/routerApi';
import { newRequestId } from './replicas';
import { serveReplicaAdmin } from './replicas/adminEndpoints';
import { proxyReportToLeader } from './replicas/reportProxy';
import { mergedRunReport } from './replicas/runReport';
import { forwardRolloutToLeader } from './rolloutForward';
import { clientErrorAnswer } from './front/answer';
import { attachRawFront } from './front/rawFront';

export interface RouterServer {
  server: Server;
  /** Resolves with the bound address once listening. */
  listen(): Promise<{ host: string; port: number }>;
  /** Graceful stop; resolves when the log is fsynced and closed. */
  shutdown(): Promise<void>;
}

const notFound = (method: string | undefined, path: string): HttpError =>
  new HttpError(
    404,
    `no route for ${method} ${path} — the router serves /v2/models/{endpoint}/infer, /v2/health/live|ready, /api/v1/experiments/{name}/report|feedback|labels|weights|rollout|runs, /api/v1/leader, /admin/events|requests, /metrics and /dashboard/`,
  );

function allow(req: IncomingMessage, ...methods: string[]): void {
  if (!methods.includes(req.method ?? ''))
    throw new HttpError(405, `${req.method} is not allowed here; use ${methods.join(' or ')}`, {
      allow: methods.join(', '),
    });
}

/** `?now=`: epoch milliseconds a Date can hold; absent means the router's clock. */
function reportTime(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  const now = Number(raw);
  if (!validTimestamp(now) || now <= 0)
    throw new HttpError(
      400,
      `now must be a time in epoch milliseconds, e.g. ${Date.now()}; got "${raw.slice(0, 40)}"`,
    );
  return now;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `the path segment "${segment}" is not valid percent-encoding`);
  }
}

/** Builds the HTTP server around the router state. */
export function createRouterServer(
  core: RouterCore,
  log: (m: string) => void,
  rollouts?: RolloutController,
): RouterServer {
  const t = core.settings.timeouts;
  let accepting = true;
  let active = 0;
  let idle: (() => void) | undefined;
  const begin = (): void => void active++;
  const end = (): void => {
    active--;
    if (active === 0) idle?.();
  };

  const server = createServer(
    {
      headersTimeout: t.headersMs,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.keepAliveMs,
      // Node checks the two timeouts above on this interval (30 s by default, too coarse for them).
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(t.headersMs / 4))),
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      begin();
      // Draining: answer, then let keep-alive clients reconnect elsewhere instead of queueing here.
      if (!accepting) res.setHeader('connection', 'close');
      // A pipelined request whose connection closed before its turn gets no 'close' on its
      // response: the socket's own close ends it too, or a graceful stop would wait for it.
      // (Both can fire in one emit: a listener removed during an emit is still called in it.)
      const socket = req.socket;
      let ended = false;
      const done = (): void => {
        if (ended) return;
        ended = true;
        socket.off('close', done);
        res.off('close', done);
        end();
      };
      res.once('close', done);
      socket.once('close', done);
      dispatch(req, res).catch((err: unknown) => {
        if (!(err instanceof HttpError))
          log(`error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
        else core.metrics.rejectedRequest(err.status);
        // A refused body is read and discarded first (up to a bound), so the client gets the answer.
        const { discardBytes } = core.settings.limits;
        void drainBody(req, discardBytes, Math.min(t.requestMs, 10_000)).then(() =>
          sendError(res, err, req.complete ? {} : { connection: 'close' }),
        );
      });
    },
  );
  server.maxConnections = core.settings.limits.maxConnections;
  // Malformed HTTP never reaches a handler: answer it in the same JSON shape and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || socket.destroyed) return socket.destroy();
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(clientErrorAnswer(status, err.message));
  });
  // The raw front serves infer requests on the sockets and hands the rest to node:http (./front/).
  const raw =
    core.settings.front === 'raw'
      ? attachRawFront(server, { core, log, accepting: () => accepting, begin, end })
      : undefined;

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (checkBoundary(req, res, core.settings)) return;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const parts = path.split('/');
    // parts[0] is '' (the path starts with '/').
    if (parts[1] === 'v2') {
      // /v2/models/{endpoint}/infer is the hot path: check it first.
      if (parts[2] === 'models' && parts.length === 5 && parts[4] === 'infer') {
        const id = requestIdOf(headerOf(req), () => newRequestId(core));
        res.setHeader(REQUEST_ID_HEADER, id);
        const exp = core.experimentByEndpoint(decode(parts[3]!));
        if (!exp) throw unknownModel(decode(parts[3]!));
        allow(req, 'POST');
        return handleInfer(core, exp, req, res, id);
      }
      if (path === '/v2/health/live') return sendJson(res, 200, { live: true });
      if (path === '/v2/health/ready') return sendJson(res, accepting ? 200 : 503, { ready: accepting });
      if (path === '/v2' || path === '/v2/')
        return sendJson(res, 200, { name: 'model-canary-router', extensions: [] });
      if (parts[2] === 'models' && (parts.length === 4 || (parts.length === 5 && parts[4] === 'ready'))) {
        allow(req, 'GET');
        const exp = core.experimentByEndpoint(decode(parts[3]!));
        if (!exp) throw unknownModel(decode(parts[3]!));
        return parts.length === 4 ? modelMetadata(exp.name, res) : modelReady(exp.name, res);
      }
      throw notFound(req.method, path);
    }
    if (path === '/api/v1/leader') {
      allow(req, 'GET');
      const l = core.leadership;
      return sendJson(res, 200, { self: l.self, leader: l.leader() ?? null, leading: l.isLeader() });
    }
    if (parts[1] === 'admin') {
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      if (await serveReplicaAdmin(core, path, query, req, res)) return;
    }
    if (parts[1] === 'api' && parts[2] === 'v1' && parts[3] === 'experiments') {
      if (parts.length === 4 || (parts.length === 5 && parts[4] === '')) {
        allow(req, 'GET');
        return sendJson(res, 200, {
          experiments: core.experiments.map((e) => ({
            name: e.name,
            endpoint: e.endpoint,
            weights: e.weights,
            variants: e.variants.map((v) => ({ name: v.name, role: v.role, model: v.model, url: v.url })),
            ...(e.mirror ? { mirror: { variant: e.mirror.variant, percent: e.mirror.percent } } : {}),
          })),
          ...(core.logHealth ? { eventLog: core.logHealth } : {}),
        });
      }
      if (parts.length === 6) {
        const name = decode(parts[4]!);
        const exp = core.experimentByName(name);
        if (!exp)
          throw new HttpError(
            404,
            `unknown experiment "${name}" — this router runs ${core.experiments.map((e) => e.name).join(', ') || 'none'}`,
          );
        switch (parts[5]) {
          case 'report': {
            allow(req, 'GET');
            const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
            const now = reportTime(query.get('now'));
            const run = query.get('run') ?? undefined;
            // With replicas: the leader's merged report (a follower asks the leader), or this one's own.
            const local = query.get('local') === '1';
            if (!local && (await proxyReportToLeader(core, req, res))) return;
            const report =
              (local ? undefined : await mergedRunReport(core, exp.name, run, now)) ??
              core.report(exp.name, now, run, local);
            if (!report)
              throw new HttpError(
                404,
                `no run "${run}" of ${exp.name} — its runs are ${
                  core
                    .runsOf(exp.name)
                    .map((r) => r.id)
                    .join(', ') || 'none yet (a deploy starts one)'
                }`,
              );
            return sendJson(res, 200, report);
          }
          case 'runs':
            allow(req, 'GET', 'POST');
            return handleRuns(core, rollouts, exp, req, res);
          case 'feedback':
            allow(req, 'POST');
            return handleFeedback(core, exp, req, res);
          case 'labels':
            allow(req, 'POST');
            return handleLabels(core, exp, req, res);
          case 'weights':
            if (req.method === 'GET')
              return sendJson(res, 200, { experiment: exp.name, weights: exp.weights });
            allow(req, 'GET', 'PUT');
            return handleWeights(core, exp, req, res, rollouts?.truth);
          case 'rollout':
            if (!rollouts) throw new HttpError(404, 'this router runs no rollout controller');
            if (req.method === 'GET')
              return sendJson(res, 200, {
                experiment: exp.name,
                rollout: rollouts.status(exp.name) ?? null,
                leader: core.leadership.leader() ?? null,
              });
            allow(req, 'GET', 'POST');
            return handleRollout(core, rollouts, exp, req, res, (body, token) =>
              forwardRolloutToLeader(core, req, res, body, token),
            );
        }
      }
      throw notFound(req.method, path);
    }
    if (path === '/dashboard' || path.startsWith('/dashboard/')) {
      allow(req, 'GET');
      if (await serveDashboard(path, res, defaultAssetDir())) return;
    }
    if (path === '/metrics') {
      allow(req, 'GET');
      const text = await core.metrics.metrics();
      res.writeHead(200, { 'content-type': core.metrics.contentType });
      res.end(text);
      return;
    }
    throw notFound(req.method, path);
  }

  function unknownModel(endpoint: string): HttpError {
    const served = core.experiments.map((e) => e.endpoint);
    return new HttpError(
      404,
      `unknown model "${endpoint}" — this router serves ${served.length ? served.join(', ') : 'no models'}`,
    );
  }

  async function modelMetadata(name: string, res: ServerResponse): Promise<void> {
    sendJson(res, 200, await endpointMetadata(core, core.experimentByName(name)!));
  }

  async function modelReady(name: string, res: ServerResponse): Promise<void> {
    const exp = core.experimentByName(name)!;
    const { ready, variants } = await endpointReadiness(core, exp);
    sendJson(res, ready ? 200 : 503, { name: exp.endpoint, ready, variants });
  }

  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(core.settings.port, core.settings.host, () => {
          server.off('error', reject);
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : core.settings.port;
          resolve({ host: core.settings.host, port });
        });
      }),
    async shutdown() {
      accepting = false;
      const deadline = core.settings.timeouts.shutdownMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      raw?.closeIdle();
      const drained = active === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
      await Promise.race([Promise.all([drained, core.shadow.drain()]), timer(deadline)]);
      server.closeAllConnections();
      raw?.closeAll();
      await Promise.race([closed, timer(1_000)]);
      await core.close();
    },
  };
}
