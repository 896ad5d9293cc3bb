/**
 * Scaling and disruption objects of the stack (docs/kubernetes.md, "How it scales"):
 * a HorizontalPodAutoscaler (autoscaling/v2) for the router and for every model server, a
 * PodDisruptionBudget for each, and the topology spread of their Pods.
 *
 * `requests` scales on requests per second per Pod from the router's own Prometheus counters,
 * served to the HPA by prometheus-adapter (./prometheusAdapter.ts):
 * - the router: a `Pods` metric, the rate of `model_canary_requests_total` of each router Pod;
 * - a model server: an `External` metric, the rate of the router's requests (or shadow requests)
 *   to that experiment's variant, summed over the router replicas, with an `AverageValue` target
 *   — the HPA divides it by the server's Pods, so it is the rate per model-server Pod. The model
 *   servers' own metrics would do as well, but the router's counters are the ones the experiment
 *   is judged on and carry the experiment and variant already.
 * `cpu` is the fallback for clusters without the adapter (metrics-server's CPU utilisation).
 */
import { METRICS } from '../../shared/metricNames';
import { selectorLabels, type LabelInput } from '../labels';
import type { KubeObject } from '../types';
import { objectMetadata } from './metadata';
import type { StackOptions } from './options';

/** The custom metric (Pods) of a router Pod's request rate, as prometheus-adapter names it. */
export const ROUTER_RPS_METRIC = 'model_canary_requests_per_second';
/** The external metrics of a variant's request rate and its shadow's, as prometheus-adapter names them. */
export const VARIANT_RPS_METRIC = 'model_canary_variant_requests_per_second';
export const SHADOW_RPS_METRIC = 'model_canary_shadow_requests_per_second';
/** The Prometheus series they come from. */
export const RPS_SOURCES = {
  [ROUTER_RPS_METRIC]: METRICS.requests,
  [VARIANT_RPS_METRIC]: METRICS.requests,
  [SHADOW_RPS_METRIC]: METRICS.shadowRequests,
} as const;

export const AUTOSCALING_DEFAULTS = {
  routerRpsPerPod: 200,
  modelRpsPerPod: 50,
  cpuPercent: 70,
  maxModelReplicas: 5,
} as const;

/** The autoscaling mode: the option, else `cpu` on remote clusters and `off` on kind (no metrics-server there). */
export function autoscalingMode(opts: StackOptions): 'requests' | 'cpu' | 'off' {
  const mode = opts.autoscaling?.mode ?? (opts.platform === 'kind' ? 'off' : 'cpu');
  if (mode !== 'requests' && mode !== 'cpu' && mode !== 'off')
    throw new Error(`autoscaling must be requests, cpu or off, got "${String(mode)}"`);
  return mode;
}

function positive(value: number, what: string): number {
  if (!(value > 0) || !Number.isFinite(value))
    throw new Error(`autoscaling ${what} must be a positive number, got ${value}`);
  return value;
}

function cpuMetric(opts: StackOptions) {
  const percent = positive(opts.autoscaling?.cpuPercent ?? AUTOSCALING_DEFAULTS.cpuPercent, 'cpuPercent');
  return {
    type: 'Resource',
    resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: Math.round(percent) } },
  };
}

interface Target {
  kind: 'StatefulSet' | 'Deployment';
  name: string;
  labels: LabelInput;
  min: number;
  max: number;
  /** `requests`: the metric the HPA reads. */
  metric: object;
}

function hpa(opts: StackOptions, t: Target): KubeObject {
  if (!Number.isInteger(t.max) || t.max < t.min)
    throw new Error(
      `autoscaling: ${t.name} can scale to ${t.max} replicas, fewer than its ${t.min} — raise the maximum`,
    );
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMetadata(opts, t.name, t.labels),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: t.kind, name: t.name },
      minReplicas: t.min,
      maxReplicas: t.max,
      metrics: [autoscalingMode(opts) === 'requests' ? t.metric : cpuMetric(opts)],
    },
  };
}

/** The router's HPA (none when autoscaling is off). */
export function routerAutoscaler(
  opts: StackOptions,
  name: string,
  labels: LabelInput,
  replicas: number,
): KubeObject[] {
  if (autoscalingMode(opts) === 'off') return [];
  const rps = positive(
    opts.autoscaling?.routerRpsPerPod ?? AUTOSCALING_DEFAULTS.routerRpsPerPod,
    'routerRpsPerPod',
  );
  return [
    hpa(opts, {
      kind: 'StatefulSet',
      name,
      labels,
      min: replicas,
      max: opts.autoscaling?.maxRouterReplicas ?? 3 * replicas,
      metric: {
        type: 'Pods',
        pods: {
          metric: { name: ROUTER_RPS_METRIC },
          target: { type: 'AverageValue', averageValue: String(rps) },
        },
      },
    }),
  ];
}

/** A model server's HPA (none when autoscaling is off); `shadow` when it serves the mirror. */
export function modelServerAutoscaler(
  opts: StackOptions,
  name: string,
  labels: LabelInput,
  shadow: boolean,
): KubeObject[] {
  if (autoscalingMode(opts) === 'off') return [];
  const rps = positive(
    opts.autoscaling?.modelRpsPerPod ?? AUTOSCALING_DEFAULTS.modelRpsPerPod,
    'modelRpsPerPod',
  );
  return [
    hpa(opts, {
      kind: 'Deployment',
      name,
      labels,
      min: 1,
      max: opts.autoscaling?.maxModelReplicas ?? AUTOSCALING_DEFAULTS.maxModelReplicas,
      metric: {
        type: 'External',
        external: {
          metric: {
            name: shadow ? SHADOW_RPS_METRIC : VARIANT_RPS_METRIC,
            selector: { matchLabels: { experiment: labels.experiment, variant: labels.variant ?? '' } },
          },
          target: { type: 'AverageValue', averageValue: String(rps) },
        },
      },
    }),
  ];
}

/** Constraints that spread a workload's Pods over nodes and zones, as a preference (one node still schedules them all). */
export function topologySpread(matchLabels: Record<string, string>) {
  return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels },
  }));
}

/**
 * A PodDisruptionBudget of one Pod at a time: a node drain never takes two router replicas (or
 * two Pods of a model server) at once, and never blocks on a single-replica workload either (a
 * `minAvailable: 1` budget on one Pod would hold a drain for ever).
 */
export function disruptionBudget(opts: StackOptions, name: string, labels: LabelInput): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMetadata(opts, name, labels),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(labels) } },
  };
}
