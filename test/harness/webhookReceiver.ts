/**
 * A webhook receiver for alert tests: a real HTTP server on loopback that records every call
 * (path, headers, JSON body, arrival time) and answers as the test says: fail the first n calls
 * with a status, or answer slowly.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface WebhookCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** When the request arrived (epoch ms). */
  at: number;
  /** The status it was answered with. */
  status: number;
}

export interface ReceiverBehaviour {
  /** Answer the first `failFirst` calls (per path) with `failStatus` (500). */
  failFirst?: number;
  failStatus?: number;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface WebhookReceiver {
  url: string;
  calls: WebhookCall[];
  /** Calls to one path. */
  callsTo(path: string): WebhookCall[];
  set(behaviour: ReceiverBehaviour): void;
  /** Resolves once `predicate` holds for the calls, or rejects after `timeoutMs`. */
  waitFor(predicate: (calls: WebhookCall[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(initial: ReceiverBehaviour = {}): Promise<WebhookReceiver> {
  let behaviour = { ...initial };
  const calls: WebhookCall[] = [];
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      const status = n <= (behaviour.failFirst ?? 0) ? (behaviour.failStatus ?? 500) : 200;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = { unparsable: Buffer.concat(chunks).toString('utf8') };
      }
      calls.push({ path, headers: req.headers, body, at, status });
      const answer = (): void => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'failing on purpose');
      };
      if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs);
      else answer();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    set(next) {
      behaviour = { ...next };
    },
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(calls)) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; calls: ${JSON.stringify(calls.map((c) => [c.path, c.status, c.body.status]))}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
