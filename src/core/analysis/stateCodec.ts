/**
 * A checkpoint codec for in-memory state: an object graph (class instances, plain objects,
 * arrays, Maps, Sets, typed arrays, numbers including ±Infinity, NaN and -0) to a JSON tree and
 * back, restored *into* a freshly built object of the same shape.
 *
 * Hand-rolled because the state to save is the report builder's whole private graph (counts,
 * DDSketch stores, drift windows, sequential test state, pending attribution windows, id
 * memories) spread over some twenty classes, some of them a library's: a snapshot method per
 * class would have to be kept in step with every field added later, while this walks what is
 * there. Its rules:
 * - shared references and cycles survive (each object is written once and referred to by id);
 * - functions are not written: a restore keeps the fresh object's function at that place
 *   (methods on plain objects, callbacks given to constructors), and fails where there is none;
 * - `constants` (the experiment, its reference data) are written as their name only and come
 *   back as the caller's objects;
 * - restoring mutates the fresh object's own objects in place wherever the shapes agree, so a
 *   closure that captured one of them (a callback bound at construction) sees the restored state;
 * - a class instance that the fresh object does not have is made from the prototype of the same
 *   class, found in the fresh object or in `classes`; an unknown class fails loudly. A class is
 *   known by its name and a hash of its source, since a minified bundle reuses short names
 *   across modules; so a checkpoint written by another build of the code does not fit either;
 * - a class may write a compact form of its own instead of its fields (CompactState: the id
 *   table and the id memories write only the slots they hold).
 */
import { createHash } from 'node:crypto';

type Node =
  | string
  | number
  | boolean
  | null
  | { $: 'u' | 'f' }
  | { $: 'n'; v: string }
  | { $: 'c'; k: string }
  | { $: 'r'; i: number }
  | { $: 'a'; i: number; v: Node[] }
  | { $: 'm'; i: number; k: Node[]; v: Node[] }
  // A map whose values are all objects: defined first (`o`), then each value by id (`r`).
  | { $: 'm'; i: number; k: Node[]; o: Node[]; r: number[] }
  // A map whose values are distinct plain objects with the same keys and plain values, by column.
  | { $: 'm'; i: number; k: Node[]; id0: number; props: string[]; cols: Node[][] }
  | { $: 's'; i: number; v: Node[] }
  | { $: 't'; i: number; c: string; b: string }
  | { $: 'o'; i: number; c?: string; p: Record<string, Node> }
  // An instance of a class with its own compact form (CompactState): that form, restored into the fresh instance.
  | { $: 'x'; i: number; c: string; v: Node };

export type EncodedState = Node;

const TYPED: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
};

export class CheckpointCodecError extends Error {}

/**
 * A class whose state has a more compact form than its fields (the id memories: only the slots
 * they hold, not whole typed arrays). A restore calls `fromCheckpoint` on the fresh object of
 * the same class at that place, with what `toCheckpoint` gave, decoded into what the fresh
 * object's `toCheckpoint` gives (so an object it refers to is restored into the fresh one).
 */
export interface CompactState {
  toCheckpoint(): unknown;
  fromCheckpoint(state: unknown): void;
}

const compact = (x: object): x is CompactState =>
  typeof (x as Partial<CompactState>).toCheckpoint === 'function' &&
  typeof (x as Partial<CompactState>).fromCheckpoint === 'function';

const classKeys = new WeakMap<object, string>();

/** A class's name and a hash of its source: unique within a build, even a minified one. */
function classKey(proto: object): string {
  let key = classKeys.get(proto);
  if (key === undefined) {
    const ctor = proto.constructor as { name: string; toString(): string };
    key = `${ctor.name}#${createHash('sha1').update(ctor.toString()).digest('hex').slice(0, 12)}`;
    classKeys.set(proto, key);
  }
  return key;
}

/** Writes `value`'s graph as a JSON-able tree. */
export function encodeState(value: unknown, constants: Record<string, unknown> = {}): EncodedState {
  const ids = new Map<object, number>();
  const constantNames = new Map<unknown, string>(Object.entries(constants).map(([k, v]) => [v, k]));
  const encode = (x: unknown, path: string): Node => {
    switch (typeof x) {
      case 'string':
      case 'boolean':
        return x;
      case 'number':
        return Number.isFinite(x) && !Object.is(x, -0)
          ? x
          : { $: 'n', v: Object.is(x, -0) ? '-0' : String(x) };
      case 'undefined':
        return { $: 'u' };
      case 'function':
        return { $: 'f' };
      case 'bigint':
      case 'symbol':
        throw new CheckpointCodecError(`${path}: a ${typeof x} cannot be checkpointed`);
    }
    if (x === null) return null;
    const constant = constantNames.get(x);
    if (constant !== undefined) return { $: 'c', k: constant };
    const obj = x as object;
    const seen = ids.get(obj);
    if (seen !== undefined) return { $: 'r', i: seen };
    const i = ids.size;
    ids.set(obj, i);
    if (Array.isArray(obj)) {
      const v: Node[] = new Array<Node>(obj.length);
      for (let j = 0; j < obj.length; j++) v[j] = plain(obj[j]) ? (obj[j] as Node) : encode(obj[j], path);
      return { $: 'a', i, v };
    }
    if (obj instanceof Map) {
      const k: Node[] = [];
      for (const key of obj.keys()) k.push(plain(key) ? key : encode(key, path));
      return encodeValues(obj, i, k, path);
    }
    if (obj instanceof Set) return { $: 's', i, v: [...obj].map((e) => encode(e, path)) };
    if (ArrayBuffer.isView(obj)) {
      const c = obj.constructor.name;
      if (!(c in TYPED)) throw new CheckpointCodecError(`${path}: a ${c} cannot be checkpointed`);
      const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
      return { $: 't', i, c, b: bytes.toString('base64') };
    }
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto && compact(obj)) return { $: 'x', i, c: classKey(proto), v: encode(obj.toCheckpoint(), path) };
    const p: Record<string, Node> = {};
    for (const key of Object.keys(obj))
      p[key] = encode((obj as Record<string, unknown>)[key], `${path}.${key}`);
    if (proto === Object.prototype || proto === null) return { $: 'o', i, p };
    return { $: 'o', i, c: classKey(proto), p };
  };
  /** The values of a map, by the most compact of the three forms that fits. */
  const encodeValues = (map: Map<unknown, unknown>, i: number, k: Node[], path: string): Node => {
    let objects = map.size > 0;
    for (const val of map.values())
      if (typeof val !== 'object' || val === null || constantNames.has(val)) objects = false;
    if (!objects) {
      const v: Node[] = [];
      for (const val of map.values()) v.push(plain(val) ? val : encode(val, path));
      return { $: 'm', i, k, v };
    }
    const columns = table(map, ids);
    if (columns) {
      const id0 = ids.size;
      for (const val of map.values()) ids.set(val as object, ids.size);
      return { $: 'm', i, k, id0, ...columns };
    }
    const o: Node[] = [];
    const r: number[] = [];
    for (const val of map.values()) {
      let id = ids.get(val as object);
      if (id === undefined) {
        o.push(encode(val, path));
        id = ids.get(val as object)!;
      }
      r.push(id);
    }
    return { $: 'm', i, k, o, r };
  };
  return encode(value, '$');
}

/** A value JSON keeps as it is. */
const plain = (x: unknown): x is string | boolean | number =>
  typeof x === 'string' ||
  typeof x === 'boolean' ||
  (typeof x === 'number' && Number.isFinite(x) && !Object.is(x, -0));

/** The map's values by column, when they are distinct new plain objects with the same keys and plain values. */
function table(
  map: Map<unknown, unknown>,
  ids: Map<object, number>,
): { props: string[]; cols: Node[][] } | undefined {
  const first = map.values().next().value as object;
  if (Object.getPrototypeOf(first) !== Object.prototype) return undefined;
  const props = Object.keys(first);
  const cols: Node[][] = props.map(() => []);
  const seen = new Set<object>();
  for (const val of map.values()) {
    const o = val as Record<string, unknown>;
    if (seen.has(o) || ids.has(o) || Object.getPrototypeOf(o) !== Object.prototype) return undefined;
    seen.add(o);
    const keys = Object.keys(o);
    if (keys.length !== props.length) return undefined;
    for (let c = 0; c < props.length; c++) {
      const x = o[props[c]!];
      if (keys[c] !== props[c] || !(plain(x) || x === null)) return undefined;
      cols[c]!.push(x as Node);
    }
  }
  return { props, cols };
}

/**
 * Restores `encoded` into `target` (a freshly built object of the same kind) and returns it.
 * Throws CheckpointCodecError when the tree does not fit (a stale or foreign checkpoint).
 */
export function restoreState<T>(
  target: T,
  encoded: EncodedState,
  constants: Record<string, unknown> = {},
  classes: readonly (abstract new (...args: never[]) => unknown)[] = [],
): T {
  const protos = new Map<string, object>();
  const learn = (proto: object | null): void => {
    while (proto && proto !== Object.prototype) {
      const key = classKey(proto);
      if (!protos.has(key)) protos.set(key, proto);
      proto = Object.getPrototypeOf(proto) as object | null;
    }
  };
  for (const c of classes) learn(c.prototype as object);
  learnGraph(target, learn);
  const memo = new Map<number, unknown>();
  const fail = (path: string, why: string): never => {
    throw new CheckpointCodecError(`the checkpoint does not fit at ${path}: ${why}`);
  };
  const restore = (node: Node, existing: unknown, path: string): unknown => {
    if (node === null || typeof node !== 'object') return node;
    switch (node.$) {
      case 'u':
        return undefined;
      case 'f':
        return typeof existing === 'function' ? existing : fail(path, 'no function to keep here');
      case 'n':
        return Number(node.v);
      case 'c':
        return node.k in constants ? constants[node.k] : fail(path, `unknown constant ${node.k}`);
      case 'r':
        return memo.has(node.i) ? memo.get(node.i) : fail(path, `reference to unknown object ${node.i}`);
      case 'a': {
        const target = Array.isArray(existing) ? (existing as unknown[]) : [];
        memo.set(node.i, target);
        const old = target.slice();
        target.length = node.v.length;
        node.v.forEach(
          (n, j) => (target[j] = typeof n === 'object' && n !== null ? restore(n, old[j], path) : n),
        );
        return target;
      }
      case 'm': {
        const target = existing instanceof Map ? (existing as Map<unknown, unknown>) : new Map();
        memo.set(node.i, target);
        const old = target.size > 0 ? new Map(target) : undefined;
        target.clear();
        const keys = node.k.map((k) =>
          typeof k === 'object' && k !== null ? restore(k, undefined, path) : k,
        );
        if ('v' in node) {
          keys.forEach((key, j) => {
            const v = node.v[j]!;
            target.set(key, typeof v === 'object' && v !== null ? restore(v, old?.get(key), path) : v);
          });
        } else if ('r' in node) {
          // Each definition comes at its value's first place, and is restored into the old value there.
          let next = 0;
          keys.forEach((key, j) => {
            const id = node.r[j]!;
            if (!memo.has(id))
              restore(node.o[next++] ?? fail(path, 'a value of unknown id'), old?.get(key), path);
            target.set(key, memo.get(id) ?? fail(path, 'a value of unknown id'));
          });
        } else {
          const { props, cols, id0 } = node;
          keys.forEach((key, j) => {
            const o: Record<string, unknown> = {};
            for (let c = 0; c < props.length; c++) o[props[c]!] = cols[c]![j];
            memo.set(id0 + j, o);
            target.set(key, o);
          });
        }
        return target;
      }
      case 's': {
        const target = existing instanceof Set ? (existing as Set<unknown>) : new Set();
        memo.set(node.i, target);
        target.clear();
        for (const n of node.v) target.add(restore(n, undefined, path));
        return target;
      }
      case 't': {
        const Typed = TYPED[node.c] ?? fail(path, `unknown typed array ${node.c}`);
        const bytes = Buffer.from(node.b, 'base64');
        const copy = new Uint8Array(bytes.length);
        copy.set(bytes);
        const value = new Typed(copy.buffer);
        let result: unknown = value;
        if (
          existing instanceof Typed &&
          (existing as unknown as Uint8Array).length === (value as Uint8Array).length
        ) {
          (existing as unknown as Uint8Array).set(value as Uint8Array);
          result = existing;
        }
        memo.set(node.i, result);
        return result;
      }
      case 'x': {
        const proto = protos.get(node.c) ?? fail(path, `unknown class ${node.c}`);
        if (typeof existing !== 'object' || existing === null || Object.getPrototypeOf(existing) !== proto)
          return fail(path, `no ${node.c.replace(/#.*/, '')} to restore into`);
        memo.set(node.i, existing);
        // The fresh object's own compact form is where the saved one is restored into, so the
        // objects it refers to (the id table of a memory) are restored in place too.
        const fresh = (existing as CompactState).toCheckpoint();
        (existing as CompactState).fromCheckpoint(restore(node.v, fresh, path));
        return existing;
      }
      case 'o': {
        const proto =
          node.c === undefined
            ? Object.prototype
            : (protos.get(node.c) ?? fail(path, `unknown class ${node.c}`));
        const fits =
          typeof existing === 'object' && existing !== null && Object.getPrototypeOf(existing) === proto;
        const target = (fits ? existing : Object.create(proto)) as Record<string, unknown>;
        memo.set(node.i, target);
        for (const key of Object.keys(target)) if (!(key in node.p)) delete target[key];
        for (const [key, n] of Object.entries(node.p))
          target[key] = restore(n, target[key], `${path}.${key}`);
        return target;
      }
    }
    return fail(path, 'unknown node');
  };
  return restore(encoded, target, '$') as T;
}

/** Calls `learn` with the prototype of every class instance reachable from `root`. */
function learnGraph(root: unknown, learn: (proto: object | null) => void): void {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x !== 'object' || x === null || seen.has(x) || ArrayBuffer.isView(x)) continue;
    seen.add(x);
    if (x instanceof Map) {
      // A fresh object's maps are small (id memories are empty): a look at every value is cheap.
      for (const v of x.values()) stack.push(v);
    } else if (Array.isArray(x) || x instanceof Set) {
      for (const v of x) stack.push(v);
    } else {
      learn(Object.getPrototypeOf(x) as object | null);
      for (const v of Object.values(x)) stack.push(v);
    }
  }
}
