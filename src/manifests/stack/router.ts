/**
 * The router's workload: a StatefulSet of N replicas (the official Node image running the router
 * bundle unpacked from a ConfigMap, or a configured router image), each with its own event log
 * on its own volume (a claim per replica, sized from the retention: ./retention.ts), updated by
 * rolling update; the Service clients call (NodePort 30090 on kind, mapped to 127.0.0.1:<router
 * port> by the cluster config; ClusterIP elsewhere); and the headless Service
 * `<release>-router-peers` through which the replicas find each other (ready Pods only).
 */
import { ROUTER_GRPC_NODE_PORT, ROUTER_NODE_PORT } from '../../kind/commands';
import { ANNOTATION_BUNDLE_SHA, selectorLabels, stackLabels } from '../labels';
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { ROUTER_CONFIG_KEY, ROUTER_GRPC_PORT, resolveStackOptions, type StackOptions } from './options';
import { RESTRICTED_CONTAINER_SECURITY } from './podSecurity';
import { v2HealthProbes } from './probes';
import { autoscalingMode, topologySpread } from './autoscaling';
import { eventLogVolume } from './retention';
import { ROUTER_APP_DIR, routerBundleVolumes, unpackRouterContainer } from './routerBundle';

/** The env vars through which a router replica knows itself (the HA router reads them). */
export const REPLICA_ENV = 'MODEL_CANARY_REPLICA';
export const NAMESPACE_ENV = 'MODEL_CANARY_NAMESPACE';
/** The volume claim template of the event log: each replica's claim is `data-<router>-<ordinal>`. */
export const ROUTER_DATA_CLAIM = 'data';
/**
 * How long a stopping replica keeps serving before SIGTERM, so endpoints drop it first; then the
 * router drains for up to `timeouts.shutdownMs` (10 s) and fsyncs its log. The grace period covers both.
 */
const PRE_STOP_SECONDS = 5;
export const ROUTER_GRACE_SECONDS = 30;

/** Router replicas: the option, else 2 on remote clusters and 1 on kind. */
export function routerReplicas(opts: StackOptions): number {
  const n = opts.router?.replicas ?? (opts.platform === 'kind' ? 1 : 2);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`router replicas must be a whole number of at least 1, got ${n}`);
  return n;
}

/** The router's StatefulSet; `bundleSha256` when it runs the bundle from its ConfigMap (no router image). */
export function routerStatefulSet(opts: StackOptions, bundleSha256: string | undefined): KubeObject {
  const { names, release, images, port, experimentsDir, dataDir, adminDir, alertsDir } =
    resolveStackOptions(opts);
  const labels = routerLabels(release);
  const storage = opts.router?.storage;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: objectMetadata(opts, names.router, labels),
    spec: {
      // Under an HPA the replicas are its to set (its minimum is ours): applying them would undo its scaling.
      ...(autoscalingMode(opts) === 'off' ? { replicas: routerReplicas(opts) } : {}),
      serviceName: names.routerPeers,
      // Replicas are peers, not a chain: start and replace them all at once.
      podManagementPolicy: 'Parallel',
      // One replica at a time, the next once the new one is ready: with two or more replicas the
      // others serve meanwhile (one replica, as on kind, has a gap of a restart). A replaced Pod
      // keeps its name and claim, so no two Pods ever write one log.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      // A scaled-down or deleted router keeps its logs (down --purge deletes them).
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: selectorLabels(labels) },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: ROUTER_DATA_CLAIM, labels: stackLabels(labels) },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: storage?.size ?? eventLogVolume(opts).size } },
            ...(storage?.storageClassName ? { storageClassName: storage.storageClassName } : {}),
          },
        },
      ],
      template: {
        metadata: {
          labels: stackLabels(labels),
          ...(bundleSha256 ? { annotations: { [ANNOTATION_BUNDLE_SHA]: bundleSha256 } } : {}),
        },
        spec: {
          serviceAccountName: names.router,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          terminationGracePeriodSeconds: ROUTER_GRACE_SECONDS,
          topologySpreadConstraints: topologySpread(selectorLabels(labels)),
          ...(bundleSha256 ? { initContainers: [unpackRouterContainer(images.node)] } : {}),
          containers: [
            {
              name: 'router',
              image: opts.router?.image ?? images.node,
              command: [
                'node',
                `${ROUTER_APP_DIR}/router.js`,
                '--kube-configmap',
                `${opts.namespace}/${names.routerConfig}`,
                '--kube-configmap-key',
                ROUTER_CONFIG_KEY,
                // The experiment files through the API server: the mounted copy lags a kubelet sync.
                '--kube-experiments-configmap',
                `${opts.namespace}/${names.experiments}`,
                '--kube-experiments-dir',
                experimentsDir,
                // Replicas merge their reports on the Lease's leader (docs/replicas.md); a stack that
                // can only ever have one replica skips the merge and its second of delay.
                ...(routerReplicas(opts) > 1 || autoscalingMode(opts) !== 'off'
                  ? ['--peers-service', names.routerPeers]
                  : []),
              ],
              env: [
                { name: REPLICA_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: NAMESPACE_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              ports: [
                { name: 'http', containerPort: port, protocol: 'TCP' },
                { name: 'grpc', containerPort: ROUTER_GRPC_PORT, protocol: 'TCP' },
              ],
              // The router listens only once its log is replayed, so a replica joins the Service
              // (and the peers) only then; replaying a large log may take up to 5 minutes, and
              // liveness waits for it.
              ...v2HealthProbes(150),
              lifecycle: {
                preStop: {
                  exec: { command: ['node', '-e', `setTimeout(() => {}, ${PRE_STOP_SECONDS * 1000})`] },
                },
              },
              resources: opts.router?.resources ?? {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '512Mi' },
              },
              volumeMounts: [
                ...(bundleSha256 ? [{ name: 'app', mountPath: ROUTER_APP_DIR, readOnly: true }] : []),
                { name: ROUTER_DATA_CLAIM, mountPath: dataDir },
                { name: 'experiments', mountPath: experimentsDir, readOnly: true },
                { name: 'admin', mountPath: adminDir, readOnly: true },
                { name: 'alerts', mountPath: alertsDir, readOnly: true },
              ],
              securityContext: { ...RESTRICTED_CONTAINER_SECURITY, readOnlyRootFilesystem: true },
            },
          ],
          volumes: [
            ...(bundleSha256 ? routerBundleVolumes(names.bundle) : []),
            { name: 'experiments', configMap: { name: names.experiments, optional: true } },
            // Not optional: without the Secret the Pod waits, and its events name the Secret.
            { name: 'admin', secret: { secretName: names.adminToken, defaultMode: 0o440 } },
            // Optional: alert webhooks are opt-in, and the router re-reads the file as the Secret changes.
            {
              name: 'alerts',
              secret: { secretName: names.alertSecrets, defaultMode: 0o440, optional: true },
            },
          ],
        },
      },
    },
  };
}

/** The router's Service: NodePort on kind by default, ClusterIP elsewhere. */
export function routerService(opts: StackOptions): KubeObject {
  const { names, release, port } = resolveStackOptions(opts);
  const labels = routerLabels(release);
  const serviceType = opts.router?.serviceType ?? (opts.platform === 'kind' ? 'NodePort' : 'ClusterIP');
  const nodePort = opts.router?.nodePort ?? ROUTER_NODE_PORT;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMetadata(opts, names.router, labels),
    spec: {
      type: serviceType,
      selector: selectorLabels(labels),
      ports: [
        {
          name: 'http',
          port,
          targetPort: 'http',
          protocol: 'TCP',
          ...(serviceType === 'NodePort' ? { nodePort } : {}),
        },
        // kind maps both NodePorts to this machine (src/kind/client.ts).
        {
          name: 'grpc',
          port: ROUTER_GRPC_PORT,
          targetPort: 'grpc',
          protocol: 'TCP',
          ...(serviceType === 'NodePort'
            ? { nodePort: opts.router?.grpcNodePort ?? ROUTER_GRPC_NODE_PORT }
            : {}),
        },
      ],
    },
  };
}

/** The headless Service through which router replicas find each other: ready Pods only, port `http`. */
export function routerPeersService(opts: StackOptions): KubeObject {
  const { names, release, port } = resolveStackOptions(opts);
  const labels = routerLabels(release);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMetadata(opts, names.routerPeers, labels),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: false,
      selector: selectorLabels(labels),
      ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}
