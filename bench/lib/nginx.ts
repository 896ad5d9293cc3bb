/**
 * nginx as the benches' reference proxy: Debian's nginx-light (tools/install-bench-tools.sh), one
 * worker, on loopback, with its pid, logs and temp files in a directory of the bench's own.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/ports';
import { REPO_ROOT } from '../../test/harness/tools';

/** Installs nginx-light when missing (pinned; idempotent) and returns its path. */
export function nginxBinary(): string {
  const [nginx] = execFileSync('bash', [join(REPO_ROOT, 'tools/install-bench-tools.sh')])
    .toString()
    .trim()
    .split('\n');
  return nginx!;
}

export interface RunningNginx {
  port: number;
  proc: ChildProcess;
}

/**
 * Starts nginx in `dir` with `http` (upstreams and a server on `port`, given) inside its http
 * block; resolves once `ready(port)` says it serves, within 10 s.
 */
export async function startNginx(
  binary: string,
  dir: string,
  http: (port: number) => string,
  ready: (port: number) => Promise<boolean>,
): Promise<RunningNginx> {
  const port = await freePort();
  await mkdir(join(dir, 'temp'), { recursive: true });
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
${http(port)}
}
`;
  const file = join(dir, 'nginx.conf');
  await writeFile(file, conf);
  const proc = spawn(binary, ['-p', dir, '-c', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    if (await ready(port).catch(() => false)) return { port, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGTERM');
  throw new Error(`nginx did not serve on port ${port} (see ${dir}/error.log)`);
}
