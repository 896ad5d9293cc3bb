/**
 * Raw HTTP for the security suite (test/integration/security*.test.ts): node:http lets a test
 * send exactly the headers an attacker's page or client would (any Host, an Origin, a text/plain
 * body), which a fetch client would normalise.
 */
import { request } from 'node:http';

export interface ProbeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request to `port` on loopback with exactly these headers (Host included when given). */
export function probe(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Streams `total` bytes in `chunk`-sized writes, as a client uploading a large body does, and
 * resolves with the answer (or the socket error, e.g. ECONNRESET, as `error`).
 */
export function upload(
  port: number,
  path: string,
  total: number,
  chunk = 64 * 1024,
): Promise<{ status?: number; text?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'content-length': String(total) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode, text }));
        res.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      },
    );
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    const piece = Buffer.alloc(chunk, 0x20);
    let sent = 0;
    const write = (): void => {
      while (sent < total) {
        const n = Math.min(chunk, total - sent);
        sent += n;
        if (!req.write(n === chunk ? piece : piece.subarray(0, n))) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}
