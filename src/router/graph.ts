/**
 * A graph variant's request (docs/graphs.md): each step's model server is called over HTTP as
 * soon as the steps it reads from have answered, so independent steps run side by side. The
 * whole graph is one request of its variant; each step's latency, status and error are kept
 * for the request event. A step that fails (unreachable, timed out, 5xx) fails the graph with
 * an UpstreamError naming the step; a step's 4xx comes back as the graph's answer, naming it.
 *
 * Tensors are passed on as the parsed objects the steps answered with (their `data` arrays are
 * not copied); each step's request body is serialised once.
 */
import type { Graph, GraphStep } from '../core/spec/graph';
import { REQUEST, outputSteps, parseRef } from '../core/spec/graph';
import {
  UpstreamError,
  upstreamTarget,
  type CallOptions,
  type Upstreams,
  type UpstreamResponse,
} from './proxy';
import { round3 } from './shadow';
import type { V2InferRequest, V2Tensor } from './v2';

/** A step as the router runs it: the model and where it is served. */
export interface RoutedGraphStep {
  readonly name: string;
  readonly url: string;
  readonly target: ReturnType<typeof upstreamTarget>;
  readonly inputs?: readonly string[];
  readonly tensorMap?: Readonly<Record<string, string>>;
}

export interface RoutedGraph {
  readonly steps: readonly RoutedGraphStep[];
  /** `steps`: the output's references (default: the last step). */
  readonly output: {
    readonly steps: readonly string[];
    readonly tensorMap?: Readonly<Record<string, string>>;
  };
}

/** What the request event records of one step (RequestEvent.steps). */
export interface StepRecord {
  name: string;
  latencyMs: number;
  /** The step's HTTP status; 502/504 when it gave no answer. */
  status: number;
  error?: string;
}

/** The router config's graph (steps with their URLs) as the router runs it. */
export function routedGraph(graph: {
  steps: (GraphStep & { url: string })[];
  output?: Graph['output'];
}): RoutedGraph {
  return {
    steps: graph.steps.map((s) => ({ ...s, target: upstreamTarget(s.url, s.name) })),
    output: {
      steps: graph.output?.steps ?? outputSteps(graph),
      ...(graph.output?.tensorMap ? { tensorMap: graph.output.tensorMap } : {}),
    },
  };
}

interface StepResult {
  sent: V2Tensor[];
  outputs: V2Tensor[];
}

/** A tensor of the graph to keep for the request event (drift on the model's input): a graph reference. */
export interface GraphTap {
  readonly ref: string;
  /** Set once the graph answered, when a step that ran has that tensor. */
  tensor?: V2Tensor;
}

/** Runs the graph for one request; `records` receives each step's record as it finishes. */
export async function runGraph(
  upstreams: Upstreams,
  graph: RoutedGraph,
  request: V2InferRequest,
  headers: Record<string, string>,
  options: CallOptions | undefined,
  records: StepRecord[],
  tap?: GraphTap,
): Promise<UpstreamResponse> {
  const wanted = wantedOutputs(graph, request);
  const results = new Map<string, Promise<StepResult>>();
  const byName = new Map(graph.steps.map((s) => [s.name, s]));
  const run = (name: string): Promise<StepResult> => {
    let pending = results.get(name);
    if (!pending) {
      pending = callStep(byName.get(name)!);
      // Failures are read through the graph's own await; this only keeps Node from reporting
      // an unhandled rejection for a step nobody awaited after another step failed first.
      pending.catch(() => undefined);
      results.set(name, pending);
    }
    return pending;
  };
  const callStep = async (step: RoutedGraphStep): Promise<StepResult> => {
    const refs = step.inputs ?? [REQUEST];
    const sources = await Promise.all(refs.map((ref) => tensorsOf(ref, step.tensorMap ?? {})));
    const sent = sources.flat();
    const body: V2InferRequest = { inputs: sent };
    // The request's own parameters (e.g. content_type pd) go to the steps that read the request.
    if (request.parameters && refs.some((r) => parseRef(r).source === REQUEST))
      body.parameters = request.parameters;
    const names = wanted.get(step.name);
    if (names && names.size > 0) body.outputs = [...names].map((n) => ({ name: n }));
    const started = performance.now();
    const record = (status: number, error?: string): void => {
      records.push({
        name: step.name,
        latencyMs: round3(performance.now() - started),
        status,
        ...(error ? { error } : {}),
      });
    };
    let answer: UpstreamResponse;
    try {
      answer = await upstreams.call(
        step.target,
        'POST',
        '/infer',
        Buffer.from(JSON.stringify(body)),
        headers,
        options,
      );
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      const message = `step ${step.name}: ${err.message}`;
      record(err.status, err.status === 499 ? undefined : message);
      throw new UpstreamError(err.status, message);
    }
    if (answer.status >= 400) {
      const message = `step ${step.name} answered ${answer.status}: ${snippet(answer.body)}`;
      record(answer.status, message);
      throw answer.status >= 500 ? new UpstreamError(502, message) : new StepRefused(answer.status, message);
    }
    const json = parse(answer.body);
    if (!json) {
      const message = `step ${step.name} answered 200 without V2 outputs: ${snippet(answer.body)}`;
      record(502, message);
      throw new UpstreamError(502, message);
    }
    record(answer.status);
    return { sent, outputs: json.outputs };
  };
  // A reference's tensors, renamed by the reading step's tensorMap.
  const tensorsOf = async (ref: string, map: Readonly<Record<string, string>>): Promise<V2Tensor[]> => {
    const { source, side, tensor } = parseRef(ref);
    const all =
      source === REQUEST ? request.inputs : (await run(source))[side === 'inputs' ? 'sent' : 'outputs'];
    const picked = tensor === undefined ? all : all.filter((t) => t.name === tensor);
    if (tensor !== undefined && picked.length === 0)
      throw new UpstreamError(
        502,
        `${source === REQUEST ? 'the request' : `step ${source}`} has no ${side.slice(0, -1)} "${tensor}" (it has ${all.map((t) => t.name).join(', ') || 'none'}) — the graph reads ${ref}`,
      );
    return picked.map((t) => renamed(t, `${source}.${side}.${t.name}`, map));
  };
  try {
    // Starting every step at once: each awaits only what it reads, so independent steps overlap.
    for (const step of graph.steps) void run(step.name);
    const outMap = graph.output.tensorMap ?? {};
    let outputs = (await Promise.all(graph.output.steps.map((ref) => tensorsOf(ref, outMap)))).flat();
    if (request.outputs?.length) {
      const names = new Set(request.outputs.map((o) => o.name));
      outputs = outputs.filter((t) => names.has(t.name));
    }
    await Promise.allSettled(results.values());
    if (tap) tap.tensor = await tapped(tap.ref, results);
    const answer = { ...(request.id ? { id: request.id } : {}), outputs };
    return { status: 200, contentType: 'application/json', body: Buffer.from(JSON.stringify(answer)) };
  } catch (err) {
    // Let steps already running finish so their records are complete.
    await Promise.allSettled(results.values());
    if (err instanceof StepRefused)
      return {
        status: err.status,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify({ error: err.message })),
      };
    throw err;
  }
}

/** The tensor a reference names among the steps that ran (`<step>.outputs.<t>` or `<step>.inputs.<t>`). */
async function tapped(ref: string, results: Map<string, Promise<StepResult>>): Promise<V2Tensor | undefined> {
  const { source, side, tensor } = parseRef(ref);
  const result = results.get(source);
  if (!result || tensor === undefined) return undefined;
  const { sent, outputs } = await result;
  return (side === 'inputs' ? sent : outputs).find((t) => t.name === tensor);
}

/** The tensor under its mapped name (a shallow copy: the data array is shared, not copied). */
function renamed(t: V2Tensor, key: string, map: Readonly<Record<string, string>>): V2Tensor {
  const to = map[key];
  return to !== undefined && to !== t.name ? { ...t, name: to } : t;
}

/** A step's 4xx: the graph answers it (the client's request, or the graph's wiring). */
class StepRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Per step, the outputs to ask it for: those others read by name (and the client's, at the output). */
function wantedOutputs(graph: RoutedGraph, request: V2InferRequest): Map<string, Set<string>> {
  const wanted = new Map<string, Set<string>>();
  const add = (ref: string): void => {
    const { source, side, tensor } = parseRef(ref);
    if (source === REQUEST || side !== 'outputs' || tensor === undefined) return;
    let set = wanted.get(source);
    if (!set) wanted.set(source, (set = new Set()));
    set.add(tensor);
  };
  for (const s of graph.steps)
    for (const ref of [...(s.inputs ?? []), ...Object.keys(s.tensorMap ?? {})]) add(ref);
  // Renaming an output asks for it (MLServer's runtimes answer only `predict` unless asked).
  for (const ref of [...graph.output.steps, ...Object.keys(graph.output.tensorMap ?? {})]) add(ref);
  if (request.outputs?.length) {
    const back = new Map(Object.entries(graph.output.tensorMap ?? {}).map(([k, v]) => [v, k]));
    for (const step of graph.output.steps.map((r) => parseRef(r).source))
      for (const o of request.outputs) {
        const key = back.get(o.name);
        if (key === undefined) add(`${step}.outputs.${o.name}`);
        else if (parseRef(key).source === step) add(key);
      }
  }
  return wanted;
}

function parse(body: Buffer): { outputs: V2Tensor[] } | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as { outputs?: unknown };
    return Array.isArray(json?.outputs) ? (json as { outputs: V2Tensor[] }) : undefined;
  } catch {
    return undefined;
  }
}

function snippet(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 300)).replace(/\s+/g, ' ').trim();
  return text || '(empty body)';
}
