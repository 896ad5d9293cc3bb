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
 *   across modules; so a checkpoint written by another build of the code does not fit either.
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
  | { $: 's'; i: number; v: Node[] }
  | { $: 't'; i: number; c: string; b: string }
  | { $: 'o'; i: number; c?: string; p: Record<string, Node> };

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
      for (let j = 0; j < obj.length; j++) v[j] = encode(obj[j], path);
      return { $: 'a', i, v };
    }
    if (obj instanceof Map) {
      const k: Node[] = [];
      const v: Node[] = [];
      for (const [key, val] of obj) {
        k.push(encode(key, path));
        v.push(encode(val, path));
      }
      return { $: 'm', i, k, v };
    }
    if (obj instanceof Set) return { $: 's', i, v: [...obj].map((e) => encode(e, path)) };
    if (ArrayBuffer.isView(obj)) {
      const c = obj.constructor.name;
      if (!(c in TYPED)) throw new CheckpointCodecError(`${path}: a ${c} cannot be checkpointed`);
      const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
      return { $: 't', i, c, b: bytes.toString('base64') };
    }
    const proto = Object.getPrototypeOf(obj) as object | null;
    const p: Record<string, Node> = {};
    for (const key of Object.keys(obj))
      p[key] = encode((obj as Record<string, unknown>)[key], `${path}.${key}`);
    if (proto === Object.prototype || proto === null) return { $: 'o', i, p };
    return { $: 'o', i, c: classKey(proto), p };
  };
  return encode(value, '$');
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
        node.v.forEach((n, j) => (target[j] = restore(n, old[j], path)));
        return target;
      }
      case 'm': {
        const target = existing instanceof Map ? (existing as Map<unknown, unknown>) : new Map();
        memo.set(node.i, target);
        const old = new Map(target);
        target.clear();
        node.k.forEach((k, j) => {
          const key = restore(k, undefined, path);
          target.set(key, restore(node.v[j]!, old.get(key), path));
        });
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
