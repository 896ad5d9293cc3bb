/**
 * The cluster tier drives the built CLI (the README's commands) against real kind clusters.
 * Every command runs with the tier's own KUBECONFIG, so the user's contexts are never touched.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Report } from '../../src/shared/report';
import { dockerEnv } from './kindNode';
import { REPO_ROOT } from './tools';
import { freePort } from '../../src/runtime/ports';

export const CLI = join(REPO_ROOT, 'dist/cli.js');

export interface ClusterCli {
  /** Runs `model-canary ARGS`; asserts exit 0 unless `expectFail`. */
  run(
    args: string[],
    o?: { input?: string; expectFail?: boolean; timeoutMs?: number; env?: Record<string, string> },
  ): Promise<CliResult>;
  /** `--runtime kube --context CTX --port P --workspace WS` for a cluster's environment. */
  kubeArgs(context: string, port: number): string[];
  report(context: string, port: number): Promise<Report>;
  /** Every command line this run gave the CLI that succeeded, in order. */
  readonly ran: string[][];
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function clusterCli(workspace: string, kubeconfig: string, kindBinary: string): ClusterCli {
  const env = {
    ...dockerEnv(),
    KUBECONFIG: kubeconfig,
    PATH: `${join(kindBinary, '..')}:${process.env.PATH}`,
  };
  const ran: string[][] = [];
  const api: ClusterCli = {
    ran,
    async run(args, o = {}) {
      const res = await execa('node', [CLI, ...args], {
        env: { ...env, ...o.env },
        extendEnv: false,
        input: o.input,
        reject: false,
        timeout: o.timeoutMs ?? 600_000,
      });
      const out = { exitCode: res.exitCode ?? -1, stdout: String(res.stdout), stderr: String(res.stderr) };
      if (out.exitCode === 0) ran.push(args);
      if (!o.expectFail)
        assert.equal(
          out.exitCode,
          0,
          `model-canary ${args.join(' ')} exited ${out.exitCode}:\n${out.stderr}\n${out.stdout}`,
        );
      return out;
    },
    kubeArgs: (context, port) => [
      '--runtime',
      'kube',
      '--context',
      context,
      '--port',
      String(port),
      '--workspace',
      workspace,
    ],
    async report(context, port) {
      const res = await api.run(['report', 'propensity', '--json', ...api.kubeArgs(context, port)]);
      return JSON.parse(res.stdout) as Report;
    },
  };
  return api;
}

export { freePort };

/**
 * A free port on 127.0.0.1 whose successor is free too (kind maps the router's gRPC NodePort
 * there). Drawn below Linux's ephemeral range (32768–60999 by default): a port picked from that
 * range can be taken minutes later as the local end of some outgoing connection, before the
 * cluster that was meant to publish it is created.
 */
export async function freePortPair(avoid: readonly number[] = []): Promise<number> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let tries = 0; tries < 200; tries++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    if (avoid.some((a) => Math.abs(a - port) <= 1)) continue;
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports on 127.0.0.1');
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; the last error names what was awaited. */
export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 2000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${typeof what === 'function' ? what() : what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
