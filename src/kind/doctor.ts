/**
 * `doctor`: everything a kind cluster needs, each finding with its fix. Checks run in
 * order and later ones are skipped (not failed) when an earlier one makes them moot.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { CommandDescription, CommandRunner } from '../process/command';
import { grpcHostPort, KindCli, isSupportedKindVersion, MINIMUM_KIND_VERSION } from './commands';
import { explainKindFailure, kindNotFound } from './errors';

export type FindingStatus = 'ok' | 'warning' | 'error' | 'skipped';

export interface Finding {
  id: 'engine-binary' | 'engine-daemon' | 'kind-binary' | 'cluster' | 'host-port' | 'inotify';
  title: string;
  status: FindingStatus;
  detail: string;
  /** What to do about it; present for warnings and errors. */
  fix?: string;
}

export interface DoctorOptions {
  kindBinary: string;
  clusterName: string;
  /** Host port the router's NodePort is mapped to. */
  hostPort: number;
  /** Container engine binary; kind's default provider is docker. */
  engine?: string;
  signal?: AbortSignal;
  /** Where inotify limits are read (tests point it elsewhere). */
  procRoot?: string;
  /** Extra environment for the engine and kind commands. */
  env?: Record<string, string>;
}

export interface DoctorReport {
  findings: Finding[];
  /** True when a kind cluster can be created (no errors). */
  ok: boolean;
}

const dockerInfo = (engine: string, env?: Record<string, string>): CommandDescription<string> => ({
  command: engine,
  args: ['info', '--format', '{{.ServerVersion}}'],
  parse: (stdout) => stdout.trim(),
  ...(env ? { env } : {}),
});

/** Runs every check and returns the findings. */
export async function runDoctor(run: CommandRunner, opts: DoctorOptions): Promise<DoctorReport> {
  const engine = opts.engine ?? 'docker';
  const findings: Finding[] = [];
  const info = await run(dockerInfo(engine, opts.env), { signal: opts.signal, timeoutMs: 20_000 });
  if (info.kind === 'canceled') throw new DOMException('canceled', 'AbortError');
  if (info.kind === 'not-found') {
    const problem = explainKindFailure(`exec: "${engine}": executable file not found in $PATH (docker)`);
    findings.push({
      id: 'engine-binary',
      title: 'Container engine',
      status: 'error',
      detail: `${engine} is not installed`,
      fix: problem.message,
    });
    findings.push({
      id: 'engine-daemon',
      title: 'Container engine daemon',
      status: 'skipped',
      detail: `no ${engine} binary`,
    });
  } else {
    findings.push({
      id: 'engine-binary',
      title: 'Container engine',
      status: 'ok',
      detail: `${engine} found`,
    });
    if (info.kind === 'ok') {
      findings.push({
        id: 'engine-daemon',
        title: 'Container engine daemon',
        status: 'ok',
        detail: `${engine} server ${info.value}`,
      });
    } else {
      const problem = explainKindFailure(info.stderr || info.message);
      const notRunning =
        problem.code === 'unknown' ? explainKindFailure('Cannot connect to the Docker daemon') : problem;
      findings.push({
        id: 'engine-daemon',
        title: 'Container engine daemon',
        status: 'error',
        detail: firstLine(info.stderr || info.message),
        fix: notRunning.message,
      });
    }
  }
  const daemonOk = findings.some((f) => f.id === 'engine-daemon' && f.status === 'ok');

  const kind = new KindCli(opts.kindBinary, opts.env);
  const version = await run(kind.version(), { signal: opts.signal, timeoutMs: 20_000 });
  if (version.kind === 'ok') {
    const supported = isSupportedKindVersion(version.value);
    const min = `v${MINIMUM_KIND_VERSION.major}.${MINIMUM_KIND_VERSION.minor}.${MINIMUM_KIND_VERSION.patch}`;
    findings.push({
      id: 'kind-binary',
      title: 'kind',
      status: supported ? 'ok' : 'error',
      detail: `${version.value.version} at ${opts.kindBinary}`,
      fix: supported
        ? undefined
        : `kind ${version.value.version} is older than ${min} — install a newer kind and set modelCanary.kind.path.`,
    });
  } else if (version.kind === 'not-found') {
    findings.push({
      id: 'kind-binary',
      title: 'kind',
      status: 'error',
      detail: `${opts.kindBinary} not found`,
      fix: kindNotFound(opts.kindBinary).message,
    });
  } else if (version.kind === 'failed') {
    findings.push({
      id: 'kind-binary',
      title: 'kind',
      status: 'error',
      detail: firstLine(version.message),
      fix: 'Reinstall kind or point modelCanary.kind.path at a working binary.',
    });
  }
  const kindOk = findings.some((f) => f.id === 'kind-binary' && f.status === 'ok');

  if (daemonOk && kindOk) {
    const clusters = await run(kind.getClusters(), { signal: opts.signal, timeoutMs: 30_000 });
    if (clusters.kind === 'ok') {
      const exists = clusters.value.includes(opts.clusterName);
      findings.push({
        id: 'cluster',
        title: `Cluster "${opts.clusterName}"`,
        status: 'ok',
        detail: exists ? `exists (context kind-${opts.clusterName})` : 'not created yet',
      });
    } else if (clusters.kind === 'failed') {
      findings.push({
        id: 'cluster',
        title: `Cluster "${opts.clusterName}"`,
        status: 'error',
        detail: firstLine(clusters.message),
        fix: explainKindFailure(clusters.message).message,
      });
    }
  } else {
    findings.push({
      id: 'cluster',
      title: `Cluster "${opts.clusterName}"`,
      status: 'skipped',
      detail: 'needs a running container engine and kind',
    });
  }

  const ports = [opts.hostPort, grpcHostPort(opts.hostPort)];
  const busy = (await Promise.all(ports.map(async (p) => ((await isPortFree(p)) ? [] : [p])))).flat();
  findings.push({
    id: 'host-port',
    title: `Host ports ${ports.join(' (HTTP) and ')} (gRPC)`,
    status: busy.length === 0 ? 'ok' : 'warning',
    detail: busy.length === 0 ? 'free on 127.0.0.1' : `in use on 127.0.0.1: ${busy.join(', ')}`,
    fix:
      busy.length === 0
        ? undefined
        : `Stop what listens on 127.0.0.1:${busy.join(' and ')} or change modelCanary.router.port (the router's HTTP port; gRPC takes the next one), unless it is this cluster's own router.`,
  });

  if (process.platform === 'linux') findings.push(await inotifyFinding(opts.procRoot ?? '/proc'));
  return { findings, ok: !findings.some((f) => f.status === 'error') };
}

// kind's known-issues page: many nodes exhaust the default inotify limits ("too many open files").
const INOTIFY_MIN = { max_user_watches: 524288, max_user_instances: 512 };

async function inotifyFinding(procRoot: string): Promise<Finding> {
  const low: { key: string; value: number; min: number }[] = [];
  for (const [key, min] of Object.entries(INOTIFY_MIN)) {
    const raw = await readFile(`${procRoot}/sys/fs/inotify/${key}`, 'utf8').catch(() => undefined);
    const value = raw === undefined ? NaN : Number(raw.trim());
    if (Number.isFinite(value) && value < min) low.push({ key, value, min });
  }
  if (low.length === 0) return { id: 'inotify', title: 'inotify limits', status: 'ok', detail: 'sufficient' };
  return {
    id: 'inotify',
    title: 'inotify limits',
    status: 'warning',
    detail: low.map((l) => `fs.inotify.${l.key}=${l.value} (want ≥ ${l.min})`).join(', '),
    fix: `Raise them: sudo sysctl ${low.map((l) => `fs.inotify.${l.key}=${l.min}`).join(' ')}`,
  };
}

/** True when nothing listens on 127.0.0.1:port. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The findings as plain text, one per line, fixes indented under them. */
export function formatDoctorReport(report: DoctorReport): string {
  const mark: Record<FindingStatus, string> = { ok: '✔', warning: '!', error: '✖', skipped: '-' };
  return report.findings
    .map((f) => `${mark[f.status]} ${f.title}: ${f.detail}${f.fix ? `\n    fix: ${f.fix}` : ''}`)
    .join('\n');
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
