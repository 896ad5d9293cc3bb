/**
 * The router's workload: a PVC for its event log, a Deployment (the official Node image running
 * the router bundle unpacked from a ConfigMap, or a configured router image) and a Service
 * (NodePort 30090 on kind, mapped to 127.0.0.1:<router port> by the cluster config; ClusterIP
 * elsewhere).
 */
import { ROUTER_GRPC_NODE_PORT, ROUTER_NODE_PORT } from '../../kind/commands';
import { ANNOTATION_BUNDLE_SHA, selectorLabels, stackLabels } from '../labels';
import type { KubeObject } from '../types';
import { objectMetadata, routerLabels } from './metadata';
import { ROUTER_CONFIG_KEY, ROUTER_GRPC_PORT, resolveStackOptions, type StackOptions } from './options';
import { RESTRICTED_CONTAINER_SECURITY } from './podSecurity';
import { ROUTER_APP_DIR, routerBundleVolumes, unpackRouterContainer } from './routerBundle';

/** The PersistentVolumeClaim of the router's event log. */
export function routerDataClaim(opts: StackOptions): KubeObject {
  const { names, release } = resolveStackOptions(opts);
  const storage = opts.router?.storage;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: objectMetadata(opts, names.data, routerLabels(release)),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: storage?.size ?? '1Gi' } },
      ...(storage?.storageClassName ? { storageClassName: storage.storageClassName } : {}),
    },
  };
}

/** The router's Deployment; `bundleSha256` when it runs the bundle from its ConfigMap (no router image). */
export function routerDeployment(opts: StackOptions, bundleSha256: string | undefined): KubeObject {
  const { names, release, images, port, experimentsDir, dataDir, adminDir, alertsDir } =
    resolveStackOptions(opts);
  const labels = routerLabels(release);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMetadata(opts, names.router, labels),
    spec: {
      replicas: 1,
      // One writer of the event log on a ReadWriteOnce volume: stop the old Pod before the new one starts.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(labels) },
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
          terminationGracePeriodSeconds: 30,
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
              ],
              ports: [
                { name: 'http', containerPort: port, protocol: 'TCP' },
                { name: 'grpc', containerPort: ROUTER_GRPC_PORT, protocol: 'TCP' },
              ],
              readinessProbe: {
                httpGet: { path: '/v2/health/ready', port: 'http' },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: '/v2/health/live', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              // Replaying a large event log takes a while; liveness waits for it.
              startupProbe: {
                httpGet: { path: '/v2/health/live', port: 'http' },
                periodSeconds: 2,
                failureThreshold: 150,
              },
              resources: opts.router?.resources ?? {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '512Mi' },
              },
              volumeMounts: [
                ...(bundleSha256 ? [{ name: 'app', mountPath: ROUTER_APP_DIR, readOnly: true }] : []),
                { name: 'data', mountPath: dataDir },
                { name: 'experiments', mountPath: experimentsDir, readOnly: true },
                { name: 'admin', mountPath: adminDir, readOnly: true },
                { name: 'alerts', mountPath: alertsDir, readOnly: true },
              ],
              securityContext: { ...RESTRICTED_CONTAINER_SECURITY, readOnlyRootFilesystem: true },
            },
          ],
          volumes: [
            ...(bundleSha256 ? routerBundleVolumes(names.bundle) : []),
            { name: 'data', persistentVolumeClaim: { claimName: names.data } },
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
