/**
 * Links between the docs resolve: every relative link in README.md, CONTRIBUTING.md and docs/*.md
 * names a file that exists, and its `#anchor`, when it has one, a heading of that file (GitHub's
 * slugs: lower case, punctuation dropped, spaces as hyphens). A section moved or renamed without
 * its links is caught here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** GitHub's anchor of a heading's text. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(text: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(slug(m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')));
  }
  return out;
}

function docFiles(): string[] {
  const files = ['README.md', 'CONTRIBUTING.md'];
  for (const name of readdirSync(join(ROOT, 'docs')).sort())
    if (name.endsWith('.md')) files.push(`docs/${name}`);
  return files;
}

describe('links between the docs', () => {
  it('slugs headings as GitHub does', () => {
    assert.equal(slug("The router's tokens"), 'the-routers-tokens');
    assert.equal(slug('Calling it over gRPC'), 'calling-it-over-grpc');
    assert.equal(slug('`model-canary analyze` at disk speed'), 'model-canary-analyze-at-disk-speed');
  });

  it('every relative link names an existing file and heading', () => {
    const broken: string[] = [];
    for (const file of docFiles()) {
      const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path ? normalize(join(dirname(file), path)) : file;
        if (!existsSync(join(ROOT, resolved))) {
          broken.push(`${file}: ${target} (no file ${resolved})`);
          continue;
        }
        if (anchor && resolved.endsWith('.md')) {
          const anchors = anchorsOf(readFileSync(join(ROOT, resolved), 'utf8'));
          if (!anchors.has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});
