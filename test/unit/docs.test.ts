/**
 * The docs name only what exists. Every setting, palette command, CLI verb and router path that
 * README.md, CONTRIBUTING.md or docs/*.md mention is looked up where it is defined:
 * - `modelCanary.<x>`: package.json `contributes.configuration.properties` (a declared command or
 *   view id is accepted too, since those share the prefix);
 * - "Model Canary: <Title>": a title in package.json `contributes.commands`;
 * - `model-canary <verb>` (on one line): a command that `node dist/cli.js --help` lists (the test tiers run
 *   after `npm run build`; without dist/cli.js this one check is skipped, saying so);
 * - `/api/v1/…`, `/v2/…`, `/dashboard/…`, `/metrics`: a path written in src/router/*.ts or
 *   src/shared/*.ts (code or comment), with `{name}`, `:name`, `<name>` and `${…}` segments
 *   taken as parameters. A concrete name (`/v2/models/propensity/infer`) fits a parameter, except
 *   in the last segment, which must be a parameter in the doc too or a string the router's code
 *   compares a path segment with (`'rollout'`, `'ready'`): that is how it dispatches.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

interface Manifest {
  contributes: {
    commands: { command: string; title: string }[];
    views: Record<string, { id: string }[]>;
    configuration: { properties: Record<string, unknown> };
  };
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

interface Doc {
  file: string;
  text: string;
}

function docs(): Doc[] {
  const files = ['README.md', 'CONTRIBUTING.md'];
  const dir = join(ROOT, 'docs');
  if (existsSync(dir))
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.md')) files.push(`docs/${name}`);
  return files
    .filter((f) => existsSync(join(ROOT, f)))
    .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Every match of `re` in every doc, as `file:line` and the match. */
function mentions(re: RegExp): { where: string; match: RegExpExecArray }[] {
  const out: { where: string; match: RegExpExecArray }[] = [];
  for (const doc of docs()) {
    for (const match of doc.text.matchAll(re))
      out.push({ where: `${doc.file}:${lineOf(doc.text, match.index)}`, match });
  }
  return out;
}

// ---------------------------------------------------------------- CLI verbs

/** The command names of `model-canary --help`: the lines under "Commands:" up to a blank line. */
function parseHelpCommands(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Commands:');
  const names: string[] = [];
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const name = /^\s+([a-z][a-z0-9-]*)(\s|$)/.exec(line)?.[1];
    if (name) names.push(name);
  }
  return names;
}

// ---------------------------------------------------------------- router paths

const PARAM = '*';

/** Splits a path into segments: parameters become `*`, `a|b` alternatives become several paths. */
function pathVariants(raw: string): string[][] {
  const path = raw.replace(/[?#].*$/, '').replace(/[.,:;]+$/, '');
  const segments = path
    .split('/')
    .slice(1)
    .filter((s, i, all) => s !== '' || i < all.length - 1);
  let variants: string[][] = [[]];
  for (const segment of segments) {
    const isParam =
      /^\{[^}]*\}$/.test(segment) ||
      /^<[^>]*>$/.test(segment) ||
      /^:\w+$/.test(segment) ||
      segment.includes('${');
    const options = isParam ? [PARAM] : segment.split('|').filter(Boolean);
    variants = variants.flatMap((v) => options.map((o) => [...v, o]));
  }
  return variants;
}

const PATH_START = /(?<![A-Za-z0-9_.-])\/(?:api\/v1|v2|dashboard|metrics)(?![A-Za-z0-9_-])/g;

/** The paths written in a source file: from each path start to the end of the string or word, `${…}` included. */
function sourcePaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PATH_START)) {
    let i = m.index;
    let path = '';
    while (i < text.length) {
      if (text.startsWith('${', i)) {
        let depth = 0;
        const from = i;
        for (; i < text.length; i++) {
          if (text[i] === '{') depth++;
          else if (text[i] === '}' && --depth === 0) break;
        }
        path += text.slice(from, ++i);
        continue;
      }
      const c = text[i]!;
      if (/[\s'"`,;()*[\]]/.test(c)) break;
      path += c;
      i++;
    }
    out.push(path);
  }
  return out;
}

function routerSources(): { paths: string[][]; literals: Set<string> } {
  const paths: string[][] = [];
  const literals = new Set<string>();
  for (const dir of ['src/router', 'src/shared']) {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (!name.endsWith('.ts')) continue;
      const text = readFileSync(join(ROOT, dir, name), 'utf8');
      for (const p of sourcePaths(text)) paths.push(...pathVariants(p));
      if (dir === 'src/router')
        for (const m of text.matchAll(/'([^'\\\n]+)'|"([^"\\\n]+)"/g)) literals.add(m[1] ?? m[2]!);
    }
  }
  return { paths, literals };
}

/** True when a doc's path (segments) is one the sources write. */
function pathExists(doc: string[], sources: { paths: string[][]; literals: Set<string> }): boolean {
  return sources.paths.some(
    (src) =>
      src.length === doc.length &&
      doc.every((d, i) => {
        const s = src[i]!;
        if (d === PARAM) return s === PARAM;
        if (s !== PARAM) return s === d;
        return i < doc.length - 1 || sources.literals.has(d);
      }),
  );
}

// ---------------------------------------------------------------- the checks

describe('the docs mention only what exists (README.md, CONTRIBUTING.md, docs/*.md)', () => {
  it('reads README.md, CONTRIBUTING.md and the docs folder', () => {
    const files = docs().map((d) => d.file);
    assert.ok(files.includes('README.md') && files.includes('CONTRIBUTING.md'), files.join(', '));
    assert.ok(
      files.some((f) => f.startsWith('docs/')),
      files.join(', '),
    );
  });

  it('names only settings (modelCanary.*) that package.json contributes', () => {
    const known = new Set([
      ...Object.keys(manifest.contributes.configuration.properties),
      ...manifest.contributes.commands.map((c) => c.command),
      ...Object.values(manifest.contributes.views).flatMap((views) => views.map((v) => v.id)),
    ]);
    const unknown = mentions(/(?<![\w.-])modelCanary\.[A-Za-z0-9_.]*[A-Za-z0-9_]/g)
      .filter(({ match }) => !known.has(match[0]))
      .map(({ where, match }) => `${where}: ${match[0]}`);
    assert.deepEqual(unknown, [], 'not in contributes.configuration.properties (nor a command or view id)');
  });

  it('names only palette commands ("Model Canary: <Title>") that package.json declares', () => {
    const titles = manifest.contributes.commands.map((c) => c.title.replace(/\.\.\./g, '…'));
    const unknown = mentions(/Model Canary:\s+/g)
      .map(({ where, match }) => {
        const rest = match.input
          .slice(match.index + match[0].length, match.index + match[0].length + 120)
          .replace(/\s+/g, ' ')
          .replace(/\.\.\./g, '…');
        const ok = titles.some((t) => rest.startsWith(t) && !/^[\w-]/.test(rest.slice(t.length)));
        return ok ? undefined : `${where}: "Model Canary: ${rest.split(' ').slice(0, 4).join(' ')}…"`;
      })
      .filter((p): p is string => p !== undefined);
    assert.deepEqual(unknown, [], `not a title of contributes.commands (${titles.join(', ')})`);
  });

  it('names only CLI verbs (model-canary <verb>) that `model-canary --help` lists', function () {
    this.timeout(30_000);
    const cli = join(ROOT, 'dist/cli.js');
    if (!existsSync(cli)) {
      console.log(`      skipped: ${cli} is missing — run \`npm run build\` first`);
      this.skip();
    }
    const help = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    const verbs = parseHelpCommands(help);
    assert.ok(verbs.length > 5, `no command list in the output of model-canary --help:\n${help}`);
    const unknown = mentions(/(?<![\w./-])model-canary[ \t]+([a-z][a-z0-9-]*)(?![\w-])/g)
      .filter(({ match }) => !verbs.includes(match[1]!))
      .map(({ where, match }) => `${where}: model-canary ${match[1]}`);
    assert.deepEqual(unknown, [], `not a command of model-canary --help (${verbs.join(', ')})`);
  });

  it('names only router paths that src/router or src/shared write', () => {
    const sources = routerSources();
    assert.ok(sources.paths.length > 5, 'no router paths found in src/router/*.ts and src/shared/*.ts');
    const unknown = mentions(
      /(?<![A-Za-z_./-])\/(?:api\/v1|v2|dashboard|metrics)(?![A-Za-z0-9_-])[^\s`'"()[\]|,;*]*/g,
    )
      .filter(({ match }) => !pathVariants(match[0]).every((doc) => pathExists(doc, sources)))
      .map(({ where, match }) => `${where}: ${match[0]}`);
    assert.deepEqual(unknown, [], 'no string in src/router/*.ts or src/shared/*.ts has these paths');
  });
});

describe('the docs check itself', () => {
  const sources = {
    paths: [
      ...pathVariants('/api/v1/experiments/{name}/report|feedback'),
      ...pathVariants('/api/v1/experiments/${encodeURIComponent(experiment)}/${leaf}'),
      ...pathVariants('/v2/models/<model>'),
      ...pathVariants('/dashboard/'),
    ],
    literals: new Set(['rollout']),
  };
  const exists = (p: string) => pathVariants(p).every((d) => pathExists(d, sources));

  it('takes {name}, :name, <name> and ${…} as parameters and expands a|b', () => {
    assert.deepEqual(pathVariants('/api/v1/experiments/:name/report|weights?now=1.'), [
      ['api', 'v1', 'experiments', '*', 'report'],
      ['api', 'v1', 'experiments', '*', 'weights'],
    ]);
    assert.deepEqual(pathVariants('/dashboard/'), [['dashboard']]);
  });

  it('finds known paths, concrete names inside them, and refuses unknown last segments', () => {
    assert.ok(exists('/api/v1/experiments/{name}/feedback'));
    assert.ok(exists('/api/v1/experiments/propensity/report'));
    assert.ok(exists('/api/v1/experiments/<name>/rollout'));
    assert.ok(exists('/dashboard/?experiment=propensity'));
    assert.ok(!exists('/api/v1/experiments/{name}/promote'));
    assert.ok(!exists('/v2/models/propensity'));
    assert.ok(!exists('/api/v1/experiments/{name}/report/{id}'));
  });

  it('reads paths out of source text, template expressions included', () => {
    assert.deepEqual(
      sourcePaths("const a = `/api/v1/experiments/${encodeURIComponent(e)}/${leaf}`; // GET '/metrics'"),
      ['/api/v1/experiments/${encodeURIComponent(e)}/${leaf}', '/metrics'],
    );
  });

  it('reads command names from the help format of src/cli/main.ts', () => {
    const help =
      'model-canary — x\n\nUsage: …\n\nCommands:\n  up      start\n  roll-back  undo\n\nExit codes: 0 ok';
    assert.deepEqual(parseHelpCommands(help), ['up', 'roll-back']);
  });
});
