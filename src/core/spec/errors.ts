import { isNode, type Document, type LineCounter } from 'yaml';

/** One problem in a workspace file, located so an editor can underline it. */
export interface SpecProblem {
  file: string;
  /** 1-based line and column. */
  line: number;
  column: number;
  /** Dotted path of the field, e.g. `spec.variants[1].weight`; empty for the whole document. */
  field: string;
  message: string;
}

/** Thrown when a workspace file cannot be used; `problems` lists every problem found, not only the first. */
export class SpecError extends Error {
  constructor(readonly problems: SpecProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'SpecError';
  }
}

/** `file:line:column: field: message`, the shape editors and terminals turn into links. */
export function formatProblem(p: SpecProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** Renders a path such as ['spec', 'variants', 1, 'weight'] as `spec.variants[1].weight`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Locates a field in a parsed YAML document. A missing field is reported where its
 * nearest existing parent is, so "spec.metrics is required" points at `spec:`.
 */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: readonly PropertyKey[],
  preferKey = false,
): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth) as (string | number)[];
    const node = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true);
    if (isNode(node) && node.range) {
      const offset =
        preferKey && depth === path.length ? (keyOffset(doc, prefix) ?? node.range[0]) : node.range[0];
      return lines.linePos(offset);
    }
  }
  return { line: 1, col: 1 };
}

/** The offset of a mapping key (its name rather than its value), for unknown-key errors. */
function keyOffset(doc: Document, path: (string | number)[]): number | undefined {
  const parent = path.length <= 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
    for (const item of parent.items as { key?: unknown }[]) {
      const key = item.key;
      if (isNode(key) && key.range && 'value' in key && key.value === last) return key.range[0];
    }
  }
  return undefined;
}
