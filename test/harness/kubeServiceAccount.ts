/** Kubeconfigs limited by RBAC, for the tests of what the tool does with fewer rights. */
import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest } from '../../src/kube';

/** A ServiceAccount with exactly `rules` in namespace NS, as a kubeconfig whose context is CONTEXT. */
export async function serviceAccountConfig(
  CONTEXT: string,
  NS: string,
  admin: KubeConfig,
  name: string,
  rules: object[],
): Promise<KubeConfig> {
  const post = async (path: string, body: object): Promise<unknown> => {
    const res = await kubeRequest(admin, CONTEXT, path, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify(body),
    });
    assert.ok(res.status < 300, `POST ${path}: HTTP ${res.status} ${res.text}`);
    return JSON.parse(res.text);
  };
  await post(`/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name } });
  await post(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, { metadata: { name }, rules });
  await post(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
  });
  const review = (await post(`/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  })) as { status: { token: string } };
  const cluster = admin.getClusters()[0]!;
  const limited = new KubeConfig();
  limited.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: review.status.token }],
    contexts: [{ name: CONTEXT, cluster: cluster.name, user: name }],
    currentContext: CONTEXT,
  });
  return limited;
}
