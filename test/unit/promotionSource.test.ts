import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { parseSource } from '../../src/operations/promoteToContext';

const EKS = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';

function kubeconfig(...contexts: string[]): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
    users: [{ name: 'u' }],
    contexts: contexts.map((name) => ({ name, cluster: 'c', user: 'u' })),
    currentContext: contexts[0],
  });
  return kc;
}

describe('promote --from CONTEXT[/NAMESPACE]', () => {
  const kc = kubeconfig('kind-model-canary', EKS);

  it('takes a whole context name with slashes (EKS ARNs) as the context', () => {
    assert.deepEqual(parseSource(kc, EKS), { context: EKS, namespace: 'model-canary' });
  });

  it('splits a namespace off at the last slash', () => {
    assert.deepEqual(parseSource(kc, `${EKS}/team-a`), { context: EKS, namespace: 'team-a' });
    assert.deepEqual(parseSource(kc, 'kind-model-canary/ns1'), {
      context: 'kind-model-canary',
      namespace: 'ns1',
    });
  });

  it('names the known contexts when the source is not one', () => {
    assert.throws(
      () => parseSource(kc, 'staging/ns'),
      /no context "staging" in the kubeconfig \(known: kind-model-canary, arn:/,
    );
  });
});

describe('a broken kubeconfig file in KUBECONFIG', () => {
  it('is named in the error, with the fix', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadKubeConfig } = await import('../../src/kube/kubeconfig');
    const dir = mkdtempSync(join(tmpdir(), 'mc-kubeconfig-'));
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: v1\nclusters: [\n  - name: : :\n');
    assert.throws(
      () => loadKubeConfig({ KUBECONFIG: broken }),
      (err: Error) =>
        err.message.startsWith(`cannot read the kubeconfig ${broken}: `) &&
        /leave it out of KUBECONFIG/.test(err.message),
    );
  });
});
