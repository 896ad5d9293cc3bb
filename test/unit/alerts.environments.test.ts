import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseRouterConfig } from '../../src/core/spec/routerConfig';
import { resolveSettings } from '../../src/router/config';
import { AlertSecretsFile } from '../../src/router/alertDelivery/secrets';
import { localRouterConfig } from '../../src/runtime/localRouterConfig';
import type { RuntimeState } from '../../src/runtime/state';

describe('alert secrets in the environments (the file the router reads)', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'mc-alert-secrets-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("the local environment's router reads .model-canary/alerts.yaml and links to its own dashboard", async () => {
    const state: RuntimeState = {
      version: 1,
      workspace: dir,
      startedAt: '2026-12-06T00:00:00Z',
      router: {
        pid: 1,
        url: 'http://127.0.0.1:8090',
        logFile: join(dir, '.model-canary/router.log'),
        configFile: join(dir, '.model-canary/router.yaml'),
        tokenFile: join(dir, '.model-canary/admin-token'),
        dataDir: join(dir, '.model-canary/data'),
      },
      modelServers: {},
      experiments: {},
    };
    const text = stringify(localRouterConfig(state, []));
    const config = parseRouterConfig(text, state.router.configFile);
    assert.deepEqual(
      [config.alerts.secretsFile, config.alerts.externalURL],
      ['alerts.yaml', 'http://127.0.0.1:8090'],
    );
    // The router resolves it against the config's folder.
    await writeFile(join(dir, '.model-canary-token'), 'x'.repeat(32));
    const resolved = await resolveSettings(
      parseRouterConfig(
        stringify({
          adminTokenFile: '../.model-canary-token',
          alerts: { secretsFile: 'alerts.yaml' },
          experiments: [],
        }),
        'router.yaml',
      ),
      join(dir, '.model-canary'),
      'router.yaml',
    );
    assert.equal(resolved.alerts.secretsFile, join(dir, '.model-canary/alerts.yaml'));
  });

  it('no file means no webhooks and no warning; a bad file keeps the last good one and warns once, without values', async () => {
    const file = join(dir, 'alerts.yaml');
    const warnings: string[] = [];
    const secrets = new AlertSecretsFile(file, (m) => warnings.push(m));
    assert.deepEqual(await secrets.read(), { webhooks: {}, defaults: [] });
    assert.deepEqual(warnings, []);
    const good = {
      webhooks: { oncall: { url: 'https://am.example/hook/SECRETPATH', token: 'SECRETTOKEN' } },
    };
    await writeFile(file, stringify(good));
    assert.equal((await secrets.read()).webhooks.oncall?.url, good.webhooks.oncall.url);
    await writeFile(file, stringify({ webhooks: { oncall: { url: 'SECRET-not-a-url' } } }));
    for (let i = 0; i < 3; i++) assert.equal((await secrets.read()).webhooks.oncall?.token, 'SECRETTOKEN');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    const [warning = ''] = warnings;
    assert.ok(!warning.includes('SECRET'), warning);
    assert.match(warning, /keeping the last good one\): webhooks\.oncall\.url: must be an http\(s\) URL/);
  });
});
