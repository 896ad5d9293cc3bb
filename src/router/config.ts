/**
 * The router config turned into what the data plane runs on: experiments with their variants in
 * routing order (baseline first), upstream targets, the admin token, the experiment (metrics,
 * guardrails, drift) the report is built from, and the drift reference.
 *
 * Relative paths (dataDir, adminTokenFile, experimentFile, alerts.secretsFile) are resolved against the config
 * file's folder, or the working directory for a config that came from a ConfigMap.
 */
import { dirname, resolve } from 'node:path';
import { parseCsv, type ReferenceData } from '../core/drift';
import { SpecError } from '../core/spec/errors';
import {
  EXPERIMENT_API_VERSION,
  EXPERIMENT_KIND,
  loadExperimentFile,
  type Experiment,
  type Variant,
} from '../core/spec/experiment';
import type { RouterConfig, RouterExperimentConfig } from '../core/spec/routerConfig';
import { MIN_ADMIN_TOKEN_LENGTH } from '../core/spec/routerConfig';
import { MIN_INGEST_TOKEN_LENGTH } from '../core/spec/routerBoundary';
import { readFromDisk, type ReadText } from './experimentFiles';
import type { DetectorServer } from './detectors';
import { upstreamTarget, type UpstreamTarget } from './proxy';
import { routedGraph, type RoutedGraph } from './graph';
import { Split } from './routing';

export interface RoutedVariant {
  readonly name: string;
  readonly role: 'baseline' | 'candidate';
  readonly model: string;
  readonly url: string;
  readonly target: UpstreamTarget;
  /** host:port of the variant's V2 gRPC port, for requests that came over gRPC. */
  readonly grpc?: string;
  /** The outputs the model returns when a request names none; learned from the first such answer. */
  defaultOutputs?: string[];
  /** False once the model refused a request that also asked for predict and predict_proba. */
  augmentable: boolean;
  /** A graph variant's steps (graph.ts); `target` is then its output step's. */
  readonly graph?: RoutedGraph;
}

export interface ShadowVariant {
  readonly variant: string;
  readonly model: string;
  readonly url: string;
  readonly target: UpstreamTarget;
  readonly percent: number;
  readonly maxInFlight: number;
  augmentable: boolean;
}

/** One experiment as the router runs it. */
export class ExperimentRuntime {
  private weightsNow: Record<string, number>;
  private splitNow: Split;
  readonly byName: ReadonlyMap<string, number>;

  constructor(
    readonly name: string,
    readonly endpoint: string,
    readonly variants: readonly RoutedVariant[],
    weights: Record<string, number>,
    /** The weights as written in the config (to tell a config change from an API change). */
    readonly configuredWeights: Readonly<Record<string, number>>,
    readonly stickyHeader: string | undefined,
    readonly mirror: ShadowVariant | undefined,
    readonly sampleRate: number,
    /** Column names for 2-D input tensors. */
    readonly columns: readonly string[] | undefined,
    /** What the report is built from. */
    readonly experiment: Experiment,
    readonly reference: ReferenceData | undefined,
    /** Where the experiment file's bring-your-own detectors are served (./detectors.ts). */
    readonly detectorServers: readonly DetectorServer[] = [],
  ) {
    this.byName = new Map(variants.map((v, i) => [v.name, i]));
    this.weightsNow = { ...weights };
    this.splitNow = this.makeSplit();
  }

  get weights(): Readonly<Record<string, number>> {
    return this.weightsNow;
  }

  get split(): Split {
    return this.splitNow;
  }

  /** Replaces the weights (every variant must be present) and the split built on them. */
  setWeights(weights: Record<string, number>): void {
    this.weightsNow = Object.fromEntries(this.variants.map((v) => [v.name, weights[v.name] ?? 0]));
    this.splitNow = this.makeSplit();
  }

  private makeSplit(): Split {
    return new Split(this.variants.map((v) => ({ name: v.name, weight: this.weightsNow[v.name] ?? 0 })));
  }

  /** True when the variants (names, roles, models, order), the mirror and the report settings are the same. */
  sameShapeAs(other: ExperimentRuntime): boolean {
    const key = (e: ExperimentRuntime): string =>
      JSON.stringify([
        e.variants.map((v) => [v.name, v.role, v.model, v.url, v.grpc]),
        e.mirror && [e.mirror.variant, e.mirror.model, e.mirror.url],
        { ...e.experiment.spec, variants: undefined },
        e.reference?.rows.length,
      ]);
    return key(this) === key(other);
  }
}

export interface RouterSettings {
  host: string;
  port: number;
  /** The gRPC front's address (`grpcListen`); undefined when the router serves HTTP only. */
  grpc: { host: string; port: number } | undefined;
  /** The HTTP front (`raw` or `node`, ./front/). */
  front: RouterConfig['front'];
  dataDir: string;
  adminToken: string | undefined;
  /** Where the token came from, re-read on each admin request so a rotated file takes effect. */
  adminTokenFile: string | undefined;
  timeouts: RouterConfig['timeouts'];
  limits: RouterConfig['limits'];
  eventLog: RouterConfig['eventLog'];
  /** Alert delivery; `secretsFile` is absolute. */
  alerts: RouterConfig['alerts'];
  /** Host names beyond loopback and IP addresses (SECURITY.md). */
  allowedHosts: string[];
  /** Origins allowed to call from a browser. */
  cors: RouterConfig['cors'];
  /** Feedback and labels: whether they need a token, and the token of each experiment (./ingestToken.ts). */
  ingest: { required: boolean; tokens: Map<string, string> };
  experiments: ExperimentRuntime[];
}

/**
 * Resolves a validated config; `baseDir` anchors relative paths, `readText` reads the files it names
 * (./experimentFiles.ts). Throws SpecError for unreadable files.
 */
export async function resolveSettings(
  config: RouterConfig,
  baseDir: string,
  file: string,
  readText: ReadText = readFromDisk,
): Promise<RouterSettings> {
  const [host, port] = config.listen.split(':') as [string, string];
  let adminToken = config.adminToken;
  let adminTokenFile: string | undefined;
  if (!adminToken && config.adminTokenFile) {
    const tokenFile = resolve(baseDir, config.adminTokenFile);
    adminTokenFile = tokenFile;
    adminToken = (await readOrFail(readFromDisk, tokenFile, file, 'adminTokenFile')).trim();
    if (adminToken.length < MIN_ADMIN_TOKEN_LENGTH)
      throw problem(
        file,
        'adminTokenFile',
        `the token in ${tokenFile} must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`,
      );
  }
  let ingestToken = config.ingestToken;
  if (!ingestToken && config.ingestTokenFile) {
    const tokenFile = resolve(baseDir, config.ingestTokenFile);
    ingestToken = (await readOrFail(readFromDisk, tokenFile, file, 'ingestTokenFile')).trim();
    if (ingestToken.length < MIN_INGEST_TOKEN_LENGTH)
      throw problem(
        file,
        'ingestTokenFile',
        `the token in ${tokenFile} must be at least ${MIN_INGEST_TOKEN_LENGTH} characters`,
      );
  }
  const experiments = await Promise.all(
    config.experiments.map((exp, i) => resolveExperiment(exp, baseDir, file, i, readText)),
  );
  const grpc = config.grpcListen?.split(':') as [string, string] | undefined;
  return {
    host,
    port: Number(port),
    grpc: grpc && { host: grpc[0], port: Number(grpc[1]) },
    front: config.front,
    dataDir: resolve(baseDir, config.dataDir),
    adminToken,
    adminTokenFile,
    timeouts: config.timeouts,
    limits: config.limits,
    eventLog: config.eventLog,
    alerts: {
      ...config.alerts,
      ...(config.alerts.secretsFile ? { secretsFile: resolve(baseDir, config.alerts.secretsFile) } : {}),
    },
    allowedHosts: config.allowedHosts,
    cors: config.cors,
    ingest: {
      required: config.requireIngestToken ?? !isLoopbackHost(host),
      tokens: new Map(
        config.experiments.flatMap((e) => {
          const token = e.ingestToken ?? ingestToken;
          return token ? [[e.name, token] as const] : [];
        }),
      ),
    },
    experiments,
  };
}

/** True for a listen host only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

async function resolveExperiment(
  cfg: RouterExperimentConfig,
  baseDir: string,
  file: string,
  index: number,
  readText: ReadText,
): Promise<ExperimentRuntime> {
  // The baseline routes first: the layout the monotone sticky ramp relies on.
  const explicit = cfg.variants.findIndex((v) => v.role === 'baseline');
  const baselineAt = explicit >= 0 ? explicit : 0;
  const ordered = [cfg.variants[baselineAt]!, ...cfg.variants.filter((_, i) => i !== baselineAt)];
  const variants: RoutedVariant[] = ordered.map((v, i) => ({
    name: v.name,
    role: i === 0 ? 'baseline' : 'candidate',
    model: v.model,
    url: v.url,
    target: upstreamTarget(v.url, v.model),
    ...(v.grpc && !v.graph ? { grpc: v.grpc } : {}),
    // A graph's answer is made by the router: no extra outputs are asked of it.
    augmentable: !v.graph,
    ...(v.graph ? { graph: routedGraph(v.graph) } : {}),
  }));
  const weights = Object.fromEntries(ordered.map((v) => [v.name, v.weight]));

  let fromFile: Experiment | undefined;
  if (cfg.experimentFile) {
    try {
      fromFile = await loadExperimentFile(resolve(baseDir, cfg.experimentFile), readText);
    } catch (err) {
      if (err instanceof SpecError)
        throw new SpecError([
          {
            file,
            line: 1,
            column: 1,
            field: `experiments[${index}].experimentFile`,
            message: `the experiment file is not usable:\n${err.message}`,
          },
        ]);
      throw err;
    }
  }
  const specVariants: Variant[] = ordered.map((v, i) => ({
    name: v.name,
    model: v.model,
    weight: v.weight,
    role: i === 0 ? 'baseline' : 'candidate',
  }));
  const { debugHeaders, scoreSample } = fromFile?.spec.routing ?? {};
  const routing = {
    ...(cfg.sticky ? { sticky: cfg.sticky } : {}),
    // Not in the router config: the experiment file names them.
    ...(debugHeaders ? { debugHeaders: debugHeaders.map((h) => h.toLowerCase()) } : {}),
    ...(scoreSample !== undefined ? { scoreSample } : {}),
    ...(cfg.mirror
      ? { mirror: { variant: cfg.mirror.variant, model: cfg.mirror.model, percent: cfg.mirror.percent } }
      : {}),
  };
  const experiment: Experiment = fromFile
    ? {
        ...fromFile,
        metadata: { ...fromFile.metadata, name: cfg.name },
        spec: { ...fromFile.spec, endpoint: cfg.endpoint, variants: specVariants, routing },
      }
    : {
        apiVersion: EXPERIMENT_API_VERSION,
        kind: EXPERIMENT_KIND,
        metadata: { name: cfg.name },
        spec: {
          endpoint: cfg.endpoint,
          variants: specVariants,
          routing,
          metrics: { primary: { name: 'conversion', kind: 'proportion' } },
        },
        file,
      };

  let reference: ReferenceData | undefined;
  const drift = experiment.spec.drift;
  if (drift) {
    const csv = resolve(dirname(experiment.file), drift.reference);
    const text = await readOrFail(
      readText,
      csv,
      file,
      `experiments[${index}].experimentFile (spec.drift.reference)`,
    );
    try {
      reference = parseCsv(text);
    } catch (err) {
      throw problem(
        file,
        `experiments[${index}].experimentFile`,
        `${csv} is not a valid CSV: ${(err as Error).message}`,
      );
    }
    if (drift.modelInput) {
      const field = `experiments[${index}].experimentFile (spec.drift.modelInput.reference)`;
      const path = resolve(dirname(experiment.file), drift.modelInput.reference);
      reference.modelInput = parseCsv(await readOrFail(readText, path, file, field));
    }
  }

  const mirror: ShadowVariant | undefined = cfg.mirror && {
    variant: cfg.mirror.variant,
    model: cfg.mirror.model,
    url: cfg.mirror.url,
    target: upstreamTarget(cfg.mirror.url, cfg.mirror.model),
    percent: cfg.mirror.percent,
    maxInFlight: cfg.mirror.maxInFlight,
    augmentable: true,
  };
  return new ExperimentRuntime(
    cfg.name,
    cfg.endpoint,
    variants,
    weights,
    weights,
    cfg.sticky?.header.toLowerCase(),
    mirror,
    cfg.sampleRate,
    cfg.features ?? reference?.columns,
    experiment,
    reference,
    cfg.detectors ?? [],
  );
}

async function readOrFail(readText: ReadText, path: string, file: string, field: string): Promise<string> {
  try {
    return await readText(path);
  } catch (err) {
    throw problem(file, field, `cannot read ${path}: ${(err as Error).message}`);
  }
}

function problem(file: string, field: string, message: string): SpecError {
  return new SpecError([{ file, line: 1, column: 1, field, message }]);
}
