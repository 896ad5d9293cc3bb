/**
 * The monitoring stack the tests run for real: Debian's prometheus and promtool
 * (tools/install-prometheus.sh) and Alertmanager built from its Go module
 * (tools/install-alertmanager.sh), started on free loopback ports in a temp folder, plus a webhook
 * receiver that records what Alertmanager posts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../src/runtime/ports';
import { SAMPLE_MODELS, pinnedVersions, toolCache } from './tools';

function debianTool(name: 'prometheus' | 'promtool'): string {
  const file = `/usr/bin/${name}`;
  if (!existsSync(file))
    throw new Error(`${name} is not installed at ${file} — run: bash tools/install-prometheus.sh`);
  return file;
}

/** promtool from Debian's prometheus package. */
export function promtoolBinary(): string {
  return debianTool('promtool');
}

/** Alertmanager built by tools/install-alertmanager.sh; a clear error when it is missing. */
export function alertmanagerBinary(): string {
  const file = join(toolCache(), 'alertmanager', pinnedVersions().ALERTMANAGER_VERSION ?? '', 'alertmanager');
  if (!existsSync(file))
    throw new Error(`Alertmanager is not provisioned at ${file} — run: bash tools/install-alertmanager.sh`);
  return file;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs promtool with `args` (and `stdin`), resolving with its exit code and output. */
export function promtool(args: string[], stdin?: string, cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(promtoolBinary(), args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) reject(err);
      else resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

export interface Service {
  url: string;
  port: number;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

async function startService(
  name: string,
  binary: string,
  args: (port: number, dir: string) => string[],
  files: Record<string, string>,
): Promise<Service> {
  const dir = await mkdtemp(join(tmpdir(), `mc-${name}-`));
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  const port = await freePort();
  const proc: ChildProcess = spawn(binary, args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${out}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, port, dir, output: () => out, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Prometheus scraping `targets` every second, evaluating `rules` every second, alerting `alertmanager`. */
export function startPrometheus(opts: {
  targets: string[];
  rules: string;
  alertmanager: string;
}): Promise<Service> {
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: ['rules.yaml'],
    scrape_configs: [{ job_name: 'model-canary-router', static_configs: [{ targets: opts.targets }] }],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanager] }] }] },
  };
  return startService(
    'prometheus',
    debianTool('prometheus'),
    (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Firing alerts are re-sent every second (default 1m), so Alertmanager hears of them at once.
      '--rules.alert.resend-delay=1s',
    ],
    { 'prometheus.yml': stringify(config), 'rules.yaml': opts.rules },
  );
}

/** Alertmanager (no cluster) routing every alert to `webhook`, grouped per alert and series, resolved ones too. */
export function startAlertmanager(webhook: string): Promise<Service> {
  const config = {
    route: {
      receiver: 'test',
      group_by: ['...'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '1h',
    },
    receivers: [{ name: 'test', webhook_configs: [{ url: webhook, send_resolved: true }] }],
  };
  return startService(
    'alertmanager',
    alertmanagerBinary(),
    (port, dir) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { 'alertmanager.yml': stringify(config) },
  );
}

/** One alert of Alertmanager's webhook payload (version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}

export interface WebhookReceiver {
  url: string;
  /** Every alert posted, in order of arrival. */
  alerts: WebhookAlert[];
  close(): Promise<void>;
}

/** An HTTP server that records Alertmanager's webhook posts and answers 200. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const alerts: WebhookAlert[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        version: string;
        alerts: WebhookAlert[];
      };
      alerts.push(...body.alerts);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    alerts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The rows of the sample workspace's drift reference (data/reference.csv), header left out. */
export async function referenceRows(): Promise<string[][]> {
  return (await readFile(join(SAMPLE_MODELS, 'data/reference.csv'), 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

/** One reference row as a 2-D V2 tensor (the router names its columns by the reference's header), age shifted by `ageShift`. */
export function rowRequest(row: string[], ageShift = 0): object {
  const cells = row.map((c, i) => (i === 0 ? Number(c) + ageShift : /^[0-9.]+$/.test(c) ? Number(c) : c));
  return { inputs: [{ name: 'X', shape: [1, cells.length], datatype: 'BYTES', data: [cells] }] };
}
