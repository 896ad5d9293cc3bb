/**
 * The router process: `node dist/router.js --config <file>`, or in Kubernetes
 * `--kube-configmap <namespace>/<name>`. Replays the event log, listens, reloads the config
 * when it changes, and on SIGTERM stops gracefully (exit 0 once the log is fsynced).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SpecError } from '../core/spec/errors';
import { parseRouterConfig } from '../core/spec/routerConfig';
import { resolveSettings } from './config';
import { warnExposure } from './exposure';
import { watchConfigFile } from './configWatch';
import { RouterCore, type Logger, type WeightsSource } from './core';
import { configMapFiles, readFromDisk, type ReadText } from './experimentFiles';
import { kubeConnection, watchConfigMap } from './kube';
import { ConfigMapTruth } from './configMapTruth';
import { RunsTruth } from './runsTruth';
import { replicaIdentity } from './leadership';
import { DEFAULT_LEASE_SECONDS, LeaseLeadership } from './lease';
import { RolloutController } from './rollout';
import { Retention } from './retention';
import { AlertDelivery } from './alertDelivery';
import { startGrpcFront } from './grpc/server';
import { createRouterServer } from './server';
import { Replicas } from './replicas';
import { PeersError } from './replicas/peers';
import { REPLICA_FLAGS, REPLICA_USAGE, fixedLeadership, peersFromFlags } from './replicas/options';

const USAGE = `usage: router --config <file>
       router --kube-configmap <namespace>/<name> [--kube-configmap-key router.yaml]
              [--kube-experiments-configmap <namespace>/<name> --kube-experiments-dir <folder>]
              [--kube-lease <name>] [--lease-duration <seconds>]
              [--kube-server <url> --kube-ca-file <file> (--kube-cert-file <file> --kube-key-file <file> | --kube-token-file <file>)]
${REPLICA_USAGE}
Outside a Pod the --kube-* flags may also come from MODEL_CANARY_KUBE_SERVER, _CA_FILE, _CERT_FILE, _KEY_FILE, _TOKEN_FILE.
With MODEL_CANARY_REPLICA set (the Pod's name), replicas elect the rollout leader on the Lease
--kube-lease (default: the ConfigMap's name without "-config", i.e. <release>-router) in the
ConfigMap's namespace, held for --lease-duration seconds (default ${DEFAULT_LEASE_SECONDS}).`;

const logger: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.error(`warning: ${m}`),
};

async function start(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'kube-configmap': { type: 'string' },
      'kube-configmap-key': { type: 'string' },
      'kube-experiments-configmap': { type: 'string' },
      'kube-experiments-dir': { type: 'string' },
      'kube-server': { type: 'string' },
      'kube-ca-file': { type: 'string' },
      'kube-cert-file': { type: 'string' },
      'kube-key-file': { type: 'string' },
      'kube-token-file': { type: 'string' },
      'kube-lease': { type: 'string' },
      'lease-duration': { type: 'string' },
      help: { type: 'boolean' },
      ...REPLICA_FLAGS,
    },
  });
  if (values.help || (!values.config && !values['kube-configmap'])) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }

  let text: string;
  let label: string;
  let baseDir: string;
  let source: WeightsSource;
  let startWatching: (reload: (text: string) => Promise<void>) => { close(): Promise<void> | void };
  // Where the experiment files come from at each load of the config.
  let files: () => Promise<ReadText> = () => Promise.resolve(readFromDisk);
  // Run from a ConfigMap: weights are written there (./configMapTruth.ts); with replicas, a Lease.
  let truth: ConfigMapTruth | undefined;
  let lease: LeaseLeadership | undefined;
  const configMap = values['kube-configmap'];
  if (configMap) {
    const [namespace, name] = configMapName(configMap, '--kube-configmap');
    const conn = kubeConnection({
      server: values['kube-server'],
      caFile: values['kube-ca-file'],
      certFile: values['kube-cert-file'],
      keyFile: values['kube-key-file'],
      tokenFile: values['kube-token-file'],
    });
    const self = replicaIdentity();
    truth = new ConfigMapTruth(
      conn,
      namespace,
      name,
      values['kube-configmap-key'],
      self === 'local' ? { warn: logger.warn } : undefined,
    );
    const seen = truth;
    const watcher = watchConfigMap(conn, namespace, name, values['kube-configmap-key'], logger.warn, (data) =>
      seen.observe(data),
    );
    if (self !== 'local') {
      const seconds =
        values['lease-duration'] === undefined ? DEFAULT_LEASE_SECONDS : Number(values['lease-duration']);
      if (!Number.isInteger(seconds) || seconds < 1)
        throw new UsageError(
          `--lease-duration must be a whole number of seconds ≥ 1 (the Lease holds whole seconds), e.g. 15, got "${values['lease-duration']}"`,
        );
      lease = new LeaseLeadership({
        conn,
        namespace,
        name: values['kube-lease'] ?? leaseNameFor(name),
        self,
        durationSeconds: seconds,
        warn: logger.warn,
        info: logger.info,
      });
    }
    const experiments = values['kube-experiments-configmap'];
    const experimentsDir = values['kube-experiments-dir'];
    if (!experiments !== !experimentsDir)
      throw new UsageError('--kube-experiments-configmap and --kube-experiments-dir go together');
    const fromConfigMap =
      experiments && experimentsDir
        ? configMapFiles(
            conn,
            ...configMapName(experiments, '--kube-experiments-configmap'),
            experimentsDir,
            logger.warn,
          )
        : undefined;
    if (fromConfigMap) files = () => fromConfigMap.snapshot();
    text = await watcher.read();
    label = `configmap/${namespace}/${name}`;
    baseDir = process.cwd();
    source = 'kubernetes';
    startWatching = (reload) => {
      watcher.start(reload);
      return {
        close: async () => {
          await Promise.all([watcher.stop(), fromConfigMap?.close()]);
        },
      };
    };
  } else {
    const file = resolve(values.config!);
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the config file ${file}: ${(err as Error).message}`);
    }
    label = values.config!;
    baseDir = dirname(file);
    source = 'config';
    const initial = text;
    startWatching = (reload) => watchConfigFile(file, initial, reload, logger.warn);
  }

  const settings = await resolveSettings(parseRouterConfig(text, label), baseDir, label, await files());
  const core = await RouterCore.open(settings, logger, source);
  const replicas = replicasFromFlags(values, core, settings.adminToken);
  const r = core.replay;
  if (r.events > 0 || r.tornBytes > 0 || r.checkpoint) {
    const rate = r.ms > 0 ? Math.round((r.events / r.ms) * 1000) : r.events;
    const from = r.checkpoint ? ` after ${r.checkpoint}` : '';
    logger.info(
      `replayed ${r.events} events${from} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.segments} segments) in ${r.ms.toFixed(0)} ms — ${rate} events/s`,
    );
  }
  if (core.logHealth)
    logger.warn(
      `${core.logHealth.quarantined} event-log lines are not events and were skipped (kept in ${core.logHealth.quarantineFile}) — \`model-canary log repair ${settings.dataDir}\` removes them from the log`,
    );
  if (lease) core.leadership = lease;
  const retention = new Retention(
    settings.dataDir,
    settings.eventLog.retention,
    () => core.log.currentSegment,
    () => core.checkpoints.durable ?? core.replay.checkpoint,
    logger,
  );
  core.checkpoints.afterWrite = () => void retention.trigger();
  retention.start();
  const rollouts = new RolloutController(core, logger, undefined, truth);
  rollouts.restore(core.replayedRollouts);
  // Runs follow the ConfigMap: one started while this replica was away is joined before it serves.
  const runs = truth && new RunsTruth(core, truth, logger, (name) => rollouts.forget(name, false));
  await runs?.sync();
  lease?.start();
  rollouts.run();
  const alerts = new AlertDelivery(core, logger);
  alerts.run();
  replicas?.start();
  const server = createRouterServer(core, logger.warn, rollouts);
  // Printed before the HTTP line, which callers wait for.
  const grpc = settings.grpc ? await startGrpcFront(core, logger.warn) : undefined;
  if (grpc) logger.info(`router gRPC listening on ${grpc.host}:${grpc.port}`);
  const { host, port } = await server.listen();
  // Before the line callers wait for, so it is in the output they read.
  warnExposure(settings, logger, port);
  logger.info(`router listening on http://${host}:${port}`);

  const watching = startWatching(async (next) => {
    const reloaded = await resolveSettings(parseRouterConfig(next, label), baseDir, label, await files());
    const notes = await core.applySettings(reloaded, source);
    await runs?.sync(); // the run of an experiment the reload added
    logger.info(`config reloaded from ${label}${notes.length ? `: ${notes.join('; ')}` : ''}`);
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: draining requests, then flushing the event log`);
    void (async () => {
      await rollouts.stop();
      // Released only once no evaluation runs: the next leader starts from what this one wrote.
      await core.leadership.stop();
      alerts.stop();
      await retention.stop();
      await watching.close();
      await truth?.close();
      await grpc?.shutdown(core.settings.timeouts.shutdownMs);
      await server.shutdown();
      // After the drain: feedback posted meanwhile may still go to the replica that served it.
      await replicas?.close();
      logger.info('stopped');
      process.exit(0);
    })().catch((err: unknown) => {
      logger.warn(`shutdown failed: ${(err as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

class UsageError extends Error {}

/** The Lease of a ConfigMap's routers: `<release>-router-config` → `<release>-router`. */
function leaseNameFor(configMap: string): string {
  return configMap.endsWith('-config') ? configMap.slice(0, -'-config'.length) : `${configMap}-leader`;
}

/** The replicas the flags name (docs/kubernetes.md, "Replicas: one report"), or none. */
function replicasFromFlags(
  values: Parameters<typeof peersFromFlags>[0] & Record<string, unknown>,
  core: RouterCore,
  adminToken: string | undefined,
): Replicas | undefined {
  const kube = (): ReturnType<typeof kubeConnection> =>
    kubeConnection({
      server: values['kube-server'] as string | undefined,
      caFile: values['kube-ca-file'] as string | undefined,
      certFile: values['kube-cert-file'] as string | undefined,
      keyFile: values['kube-key-file'] as string | undefined,
      tokenFile: values['kube-token-file'] as string | undefined,
    });
  let peers;
  try {
    peers = peersFromFlags(values, kube, logger.warn);
  } catch (err) {
    if (err instanceof PeersError) throw new UsageError(err.message);
    throw err;
  }
  if (values.leader !== undefined) core.leadership = fixedLeadership(replicaIdentity(), values.leader);
  if (!peers) return undefined;
  if (!adminToken && !core.settings.adminTokenFile)
    throw new UsageError(
      "replicas read each other's events with the admin token: set adminToken or adminTokenFile in the router config (the same on every replica)",
    );
  logger.info(`replica ${core.leadership.self}: merging the report with its peers`);
  return new Replicas(core, peers, logger);
}

/** `<namespace>/<name>` of a flag. */
function configMapName(value: string, flag: string): [string, string] {
  const [namespace, name, ...rest] = value.split('/');
  if (!namespace || !name || rest.length > 0) throw new UsageError(`${flag} must be <namespace>/<name>`);
  return [namespace, name];
}

start().catch((err: unknown) => {
  const known = err instanceof SpecError || err instanceof UsageError;
  console.error(
    known ? (err as Error).message : `router failed to start: ${(err as Error).stack ?? String(err)}`,
  );
  process.exit(known ? 2 : 1);
});
