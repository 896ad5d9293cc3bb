import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { commandTable } from '../../src/cli/main';
import { PALETTE_PROMPTS, UI_ONLY } from '../../src/vscode/palettePrompts';

// Every palette command that acts has a CLI twin, and the twin's flags ask for what the palette's
// prompts ask for: the two adapters over one operation cannot drift apart unnoticed.
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  contributes: { commands: { command: string; title: string }[] };
};
const palette = pkg.contributes.commands.map((c) => c.command.replace(/^modelCanary\./, ''));
const cli = commandTable({ routerScript: 'dist/router.js', cacheDir: '/tmp' });

describe('CLI twins of the palette commands', () => {
  it('every declared palette command either has a twin or only changes the UI', () => {
    const unaccounted = palette.filter((id) => !(id in PALETTE_PROMPTS) && !UI_ONLY.includes(id));
    assert.deepEqual(unaccounted, [], 'palette commands with no CLI twin and not UI-only');
    const stale = Object.keys(PALETTE_PROMPTS).filter((id) => !palette.includes(id));
    assert.deepEqual(stale, [], 'twins declared for commands package.json does not have');
  });

  for (const [id, prompt] of Object.entries(PALETTE_PROMPTS)) {
    it(`${id} ↔ model-canary ${prompt.twin}: the same inputs`, () => {
      const twin = cli[prompt.twin];
      assert.ok(twin, `model-canary ${prompt.twin} does not exist`);
      assert.ok(twin.twin, `model-canary ${prompt.twin} declares no palette twin`);
      assert.ok(
        twin.twin.palette.includes(id),
        `model-canary ${prompt.twin} does not name ${id} as its twin`,
      );
      // Each input the palette asks for is a flag or argument of the twin …
      const inputs = Object.keys(twin.twin.inputs);
      for (const input of [...prompt.asks, ...Object.keys(prompt.fixed ?? {})])
        assert.ok(
          inputs.includes(input),
          `model-canary ${prompt.twin} has no input "${input}" that ${id} asks for`,
        );
      // … and each input of the twin is asked by one of its palette commands (rollout: start asks the candidate).
      const siblings = Object.values(PALETTE_PROMPTS).filter((p) => p.twin === prompt.twin);
      const askedBySome = new Set(siblings.flatMap((p) => [...p.asks, ...Object.keys(p.fixed ?? {})]));
      assert.deepEqual(
        inputs.filter((i) => !askedBySome.has(i)),
        [],
        `inputs of model-canary ${prompt.twin} that no palette command asks for`,
      );
      for (const [input, source] of Object.entries(twin.twin.inputs)) {
        if (source === '<positional>') continue;
        const flag = source.replace(/^--/, '');
        assert.ok(
          twin.options && flag in twin.options,
          `${input}: model-canary ${prompt.twin} has no ${source}`,
        );
      }
    });
  }

  it('every CLI twin names only palette commands that exist', () => {
    for (const [name, command] of Object.entries(cli))
      for (const id of command.twin?.palette ?? [])
        assert.ok(
          palette.includes(id),
          `model-canary ${name} names ${id}, which package.json does not declare`,
        );
  });
});
