/**
 * A small real Open Inference Protocol V2 server for router tests and benchmarks: it answers
 * infer, ready and metadata for any model name, like MLServer's scikit-learn runtime (default
 * output `predict`; `predict_proba` on request; an unknown output is a 400), with latency and
 * failures the test controls.
 *
 * Run standalone for benchmarks: `node --import tsx test/harness/upstream.ts [--port N] [--latency MS]`
 * prints `upstream listening on http://127.0.0.1:<port>`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface UpstreamBehaviour {
  /** Delay before answering, ms. */
  latencyMs?: number;
  /** Answer infer with this status and a V2 error body instead of a prediction. */
  status?: number;
  /** Close the connection without answering. */
  reset?: boolean;
  /** Never answer (until the client gives up). */
  hang?: boolean;
  /** Refuse requests that ask for `predict_proba` (a model without probabilities). */
  noProba?: boolean;
}

export interface UpstreamCall {
  model: string;
  requestId: string | undefined;
  body: unknown;
  at: number;
}

export interface Upstream {
  url: string;
  port: number;
  /** Infer calls answered or attempted, in order. */
  calls: UpstreamCall[];
  set(behaviour: UpstreamBehaviour): void;
  close(): Promise<void>;
}

/** The class this fake model predicts for a row: 1 when the row's first number is over 40. */
export function fakeClass(firstNumber: number): number {
  return firstNumber > 40 ? 1 : 0;
}

function firstNumbers(body: { inputs?: { shape?: number[]; data?: unknown[] }[] }): number[] {
  const input = body.inputs?.[0];
  const width = (input?.shape?.length ?? 0) >= 2 ? (input?.shape?.[1] ?? 1) : 1;
  const flat = (input?.data ?? []).flat(4) as unknown[];
  // No more rows than the data holds: a shape like [2^40, 0] is valid and empty.
  const rows = Math.min(input?.shape?.[0] ?? 1, Math.ceil(flat.length / Math.max(1, width)));
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const v = flat[r * width];
    out.push(typeof v === 'number' ? v : 0);
  }
  return out;
}

/** Starts the fake V2 server on a free loopback port (or `port`). */
export async function startUpstream(initial: UpstreamBehaviour = {}, port = 0): Promise<Upstream> {
  let behaviour: UpstreamBehaviour = { ...initial };
  const calls: UpstreamCall[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0]!;
    const m = /^\/v2\/models\/([^/]+)(\/ready|\/infer)?$/.exec(path);
    if (!m) return send(res, 404, { error: `no route ${path}` });
    const model = decodeURIComponent(m[1]!);
    if (m[2] === '/ready') return send(res, 200, {});
    if (!m[2])
      return send(res, 200, { name: model, versions: [], platform: 'fake', inputs: [], outputs: [] });
    const b = { ...behaviour };
    let body: {
      inputs?: { shape?: number[]; data?: unknown[] }[];
      outputs?: { name: string }[];
      id?: string;
    };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return send(res, 400, { error: 'not JSON' });
    }
    calls.push({ model, requestId: req.headers['x-request-id'] as string | undefined, body, at: Date.now() });
    if (b.latencyMs) await new Promise((r) => setTimeout(r, b.latencyMs));
    if (b.hang) return;
    if (b.reset) return void req.socket.destroy();
    if (b.status) return send(res, b.status, { error: `fake failure ${b.status}` });
    const rows = firstNumbers(body);
    const wanted = body.outputs?.map((o) => o.name) ?? ['predict'];
    const outputs = [];
    for (const name of wanted) {
      if (name === 'predict') {
        outputs.push({ name, shape: [rows.length], datatype: 'INT64', data: rows.map(fakeClass) });
      } else if (name === 'predict_proba' && !b.noProba) {
        const p = rows.map((x) => Math.min(0.99, Math.max(0.01, x / 80)));
        outputs.push({ name, shape: [rows.length, 2], datatype: 'FP64', data: p.flatMap((q) => [1 - q, q]) });
      } else {
        return send(res, 400, { error: `unknown output ${name}` });
      }
    }
    send(res, 200, { model_name: model, model_version: 'v', id: body.id ?? 'x', parameters: {}, outputs });
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    calls,
    set(next) {
      behaviour = { ...next };
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

// Standalone mode, for benchmarks that want the upstream on its own core.
if (process.argv[1] && /upstream\.ts$/.test(process.argv[1])) {
  const arg = (name: string): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : 0;
  };
  const u = await startUpstream({ latencyMs: arg('--latency') }, arg('--port'));
  // The recorded calls would grow without bound under load.
  u.calls.push = () => 0;
  console.log(`upstream listening on ${u.url}`);
}
