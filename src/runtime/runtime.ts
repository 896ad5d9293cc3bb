/**
 * One interface for every place an experiment can run: local processes today, a kind
 * cluster or any kubeconfig context through the Kubernetes runtime. The CLI and the
 * VS Code commands only ever talk to this.
 */
import type { Report, RolloutStatus } from '../shared/report';
import {
  RouterApiError,
  type RolloutAction,
  type RolloutOverrides,
  type RouterClient,
} from '../shared/routerApi';

export interface ComponentStatus {
  name: string;
  kind: 'router' | 'model-server';
  /** Process id (local) or pod name (Kubernetes). */
  id: string;
  url: string;
  state: 'ready' | 'not-ready' | 'stopped';
  detail?: string;
  logFile?: string;
}

export interface EnvironmentStatus {
  runtime: 'process' | 'kubernetes';
  up: boolean;
  routerUrl?: string;
  /** host:port of the router's gRPC front (the V2 GRPCInferenceService), when it has one. */
  routerGrpc?: string;
  components: ComponentStatus[];
  experiments: { name: string; endpoint: string; file: string }[];
}

export interface OperationOptions {
  signal?: AbortSignal;
  /** Progress lines for the user. */
  onProgress?: (message: string) => void;
}

export interface Runtime {
  /** Starts the environment (the router, no experiment yet); idempotent. */
  up(options?: OperationOptions): Promise<EnvironmentStatus>;
  /** Starts the experiment's model servers and routes its endpoint. */
  deploy(experimentFile: string, options?: OperationOptions): Promise<EnvironmentStatus>;
  /**
   * Changes the split of a deployed experiment by the rule of shared/weights.ts (a partial split
   * keeps the unnamed variants' weights); answers the full weights now in force.
   */
  setWeights(
    experiment: string,
    weights: Record<string, number>,
    options?: OperationOptions,
  ): Promise<Record<string, number>>;
  /** The base URL clients call (`${url}/v2/models/<endpoint>/infer`). */
  endpoint(): Promise<string>;
  /**
   * A base URL that a plain HTTP client on this machine can call until `close()`: the endpoint
   * itself where it is reachable, else a port-forward to the router (remote clusters).
   */
  connect?(options?: { signal?: AbortSignal }): Promise<{ url: string; close(): Promise<void> }>;
  report(experiment: string, options?: OperationOptions): Promise<Report>;
  /** The typed client of this environment's router (reachable from this machine). */
  router(): Promise<RouterClient>;
  /**
   * The ingest token feedback and labels carry, where the environment keeps one (Kubernetes: its
   * Secret); MODEL_CANARY_INGEST_TOKEN wins. Absent: the environment keeps none.
   */
  ingestToken?(): Promise<string | undefined>;
  /** The log file of a component ("router" or a model name). */
  logFile(component: string): Promise<string>;
  status(): Promise<EnvironmentStatus>;
  /** A rollout action (a promotion or a roll back too), carried out by the controller in the router. */
  rollout(
    experiment: string,
    action: RolloutAction,
    options?: { candidate?: string; overrides?: RolloutOverrides; signal?: AbortSignal },
  ): Promise<RolloutStatus>;
  /** Stops everything it started; idempotent. */
  down(options?: OperationOptions): Promise<void>;
}

/** A runtime failure with the fix in its message. */
export class RuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** Turns the router's refusal into a RuntimeError that says what was refused and the router's reason. */
export function routerFailure(what: string): (err: unknown) => never {
  return (err: unknown) => {
    if (err instanceof RouterApiError) throw new RuntimeError(`${what} (HTTP ${err.status}): ${err.message}`);
    throw err;
  };
}
