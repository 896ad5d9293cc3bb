import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_IDS, COMMAND_PREFIX } from '../../src/vscode/commandIds';

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
  main: string;
  bin: Record<string, string>;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    views: Record<string, { id: string; name: string }[]>;
    viewsContainers: { activitybar: { id: string; title: string }[] };
    menus: Record<string, { command: string }[]>;
    configuration: {
      properties: Record<string, { scope?: string; markdownDescription?: string; description?: string }>;
    };
  };
};

describe('extension manifest (package.json)', () => {
  const declared = manifest.contributes.commands.map((c) => c.command).sort();
  const registered = COMMAND_IDS.map((id) => COMMAND_PREFIX + id).sort();

  it('declares exactly the commands the extension registers', () => {
    assert.deepEqual(
      declared.filter((c) => !registered.includes(c)),
      [],
      'declared in package.json but never registered',
    );
    assert.deepEqual(
      registered.filter((c) => !declared.includes(c)),
      [],
      'registered but not declared in package.json',
    );
  });

  it('puts every command in the "Model Canary" category and menus only reference declared commands', () => {
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Model Canary', c.command);
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items)
        assert.ok(declared.includes(item.command), `${menu} references ${item.command}`);
    }
  });

  it('activates only on lazy events, never "*"', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(
      manifest.activationEvents.every(
        (e) => e.startsWith('workspaceContains:') || e === 'onWebviewPanel:modelCanary.dashboard',
      ),
    );
    assert.ok(manifest.activationEvents.some((e) => e.includes('model-settings.json')));
  });

  it('contributes the Model Canary container with the Environments, Models and Experiments views', () => {
    assert.deepEqual(manifest.contributes.viewsContainers.activitybar[0], {
      id: 'modelCanary',
      title: 'Model Canary',
      icon: 'media/canary.svg',
    });
    assert.deepEqual(
      manifest.contributes.views.modelCanary?.map((v) => v.name),
      ['Environments', 'Models', 'Experiments'],
    );
  });

  it('keeps settings under modelCanary.*, documented, with tool paths machine-scoped', () => {
    for (const [key, prop] of Object.entries(manifest.contributes.configuration.properties)) {
      assert.match(key, /^modelCanary\./);
      assert.ok(prop.markdownDescription ?? prop.description, `${key} is documented`);
      if (key.endsWith('.path')) assert.equal(prop.scope, 'machine', `${key} is machine-scoped`);
    }
  });

  it('points main and bin at the bundles', () => {
    assert.equal(manifest.main, './dist/extension.js');
    assert.deepEqual(manifest.bin, { 'model-canary': 'dist/cli.js' });
    assert.match(manifest.engines.vscode, /^\^1\.\d+\.0$/);
  });
});
