/**
 * One inference request, whatever protocol it came in on: pick a variant (forced, sticky or
 * weighted), call it, learn and strip the extra outputs, record the request event and its
 * metrics. The HTTP front (`infer.ts`) and the gRPC front (`grpc/infer.ts`) are adapters around
 * it, so both kinds of traffic land in the same split, report, drift window and rollout gates.
 *
 * The client's bytes go upstream untouched, and the upstream's bytes come back untouched,
 * except on a request sampled for drift (or mirrored) that names no outputs: then the router
 * also asks for `predict` and `predict_proba` (on the experiment's `routing.scoreSample` share of
 * them) and removes from the answer every output the client would not have got — the model's
 * default outputs, learned from the first request that named none. A model that refuses the extra outputs is asked again exactly as the client
 * asked, and is never asked for them again.
 */
import type { Assignment, RequestEvent } from '../shared/events';
import { keptOutputs } from './answerOutputs';
import { REQUEST_ID_HEADER, VARIANT_HEADER } from '../shared/routerApi';
import type { ExperimentRuntime, RoutedVariant } from './config';
import type { RouterCore } from './core';
import {
  PREDICT,
  PREDICT_PROBA,
  firstRowFeatures,
  firstRowOutputs,
  withOutputs,
  type RecordedOutputs,
} from './features';
import { runGraph, type GraphTap, type StepRecord } from './graph';
import { HttpError } from './http';
import { claimRequestId } from './requestIds';
import { UpstreamError, type CallOptions, type UpstreamResponse } from './proxy';
import { stickyUser } from './routing';
import { round3 } from './shadow';
import type { V2InferRequest } from './v2';

export type Protocol = 'http' | 'grpc';

/** What a front hands over: the checked request, its JSON body, and how the client asked to route it. */
export interface InferCall {
  id: string;
  protocol: Protocol;
  request: V2InferRequest;
  /**
   * The V2 JSON body sent upstream over HTTP, or a function making it (the gRPC front makes it
   * only when a variant is called over HTTP). A function, not a getter: a getter in an object
   * literal is a new accessor per call, and V8 gives each such object a map of its own, which
   * lives in the old generation and keeps the call's closures, and all they hold, through every
   * young-generation collection until the next full one (bench/profiles/grpc-path.md).
   */
  body: Buffer | (() => Buffer);
  /** A variant name the client forced (`x-model-canary-variant`). */
  forced?: string;
  /** The value of the experiment's sticky header (metadata key over gRPC). */
  stickyKey?: string;
  /** The first of the experiment's debug headers the request carries. */
  debugHeader?: string;
  /** The client's cancellation and deadline, passed on to the upstream call. */
  upstream?: CallOptions;
  /**
   * Calls a variant another way than HTTP with `body` (the gRPC front's gRPC upstreams);
   * `outputs`: the outputs to ask for instead of the client's, undefined to send as the client
   * did. Undefined for the variants it does not handle.
   */
  send?: (
    variant: RoutedVariant,
    outputs: readonly string[] | undefined,
  ) => Promise<UpstreamResponse> | undefined;
  /** Epoch ms and performance.now() at arrival, when the front saw the request earlier than the call. */
  ts?: number;
  started?: number;
}

/** The answer for the client, in V2 JSON, with the status the event recorded. */
export interface InferOutcome {
  readonly variant: RoutedVariant;
  /** The HTTP status (for gRPC: the HTTP status its code maps from); 499 when the client cancelled. */
  readonly status: number;
  /** Made when first read: a gRPC front that passes the upstream's own message on never needs it. */
  readonly body: Buffer;
  readonly contentType: string;
  /** The failure, when the variant gave no usable answer. */
  readonly error?: string | undefined;
  /** The upstream's own status when it answered 5xx (the 502 is its failure, not unreachability). */
  readonly upstreamStatus?: number | undefined;
  /** Whether the shadow should get this request once the client has its answer. */
  readonly mirrored: boolean;
  /** The variant's answer that `body` is (or is cut from, with `kept`); undefined when the router made the body. */
  readonly answer?: UpstreamResponse | undefined;
  /**
   * When the router asked for more outputs than the client gets: the ones it gets (`body` is
   * the variant's answer without the others), so a front can strip its own encoding instead.
   */
  readonly kept?: ReadonlySet<string> | undefined;
}

/** The index of a forced variant; unknown → 400 naming the experiment's variants. */
export function forcedIndex(exp: ExperimentRuntime, name: string): number {
  const index = exp.byName.get(name);
  if (index === undefined)
    throw new HttpError(
      400,
      `unknown variant "${name}" in ${VARIANT_HEADER} — experiment ${exp.name} has ${exp.variants.map((v) => v.name).join(', ')}`,
    );
  return index;
}

/** Routes, calls and records one request; answers in V2 JSON. A reused request id is refused (409). */
export async function routeInfer(
  core: RouterCore,
  exp: ExperimentRuntime,
  call: InferCall,
): Promise<InferOutcome> {
  const release = claimRequestId(core, call.id);
  try {
    return await routeClaimed(core, exp, call);
  } finally {
    release();
  }
}

async function routeClaimed(
  core: RouterCore,
  exp: ExperimentRuntime,
  call: InferCall,
): Promise<InferOutcome> {
  const started = call.started ?? performance.now();
  const ts = call.ts ?? Date.now();
  const { id, request } = call;
  const forced = call.forced === undefined ? undefined : forcedIndex(exp, call.forced);
  const sticky = forced === undefined ? call.stickyKey : undefined;
  const hashed = sticky === undefined ? undefined : stickyUser(exp.name, sticky);
  const index = forced ?? exp.split.indexAt(hashed ? hashed.point : Math.random());
  const debugHeader = call.debugHeader;
  const assignment: Assignment =
    forced !== undefined ? 'forced' : debugHeader ? 'debug' : sticky !== undefined ? 'sticky' : 'weighted';
  const variant = exp.variants[index]!;
  const sampled = exp.sampleRate >= 1 || (exp.sampleRate > 0 && Math.random() < exp.sampleRate);
  const mirrored =
    exp.mirror !== undefined && exp.mirror.percent > 0 && Math.random() * 100 < exp.mirror.percent;
  const wantOutputs = sampled || mirrored;
  const scores = exp.experiment.spec.routing?.scoreSample ?? 1;
  const extra =
    wantOutputs && request.outputs === undefined && (scores >= 1 || Math.random() < scores)
      ? extraOutputs(variant)
      : undefined;
  const headers = { [REQUEST_ID_HEADER]: id };
  const steps: StepRecord[] | undefined = variant.graph ? [] : undefined;
  // Drift on the model's input: the tensor the experiment names, kept from a sampled graph request.
  const tapRef = exp.experiment.spec.drift?.modelInput?.tensor;
  const tap: GraphTap | undefined = variant.graph && sampled && tapRef ? { ref: tapRef } : undefined;
  const send = (outputs?: readonly string[]): Promise<UpstreamResponse> =>
    (variant.graph
      ? runGraph(core.upstreams, variant.graph, request, headers, call.upstream, steps!, tap)
      : undefined) ??
    call.send?.(variant, outputs) ??
    core.upstreams.call(
      variant.target,
      'POST',
      '/infer',
      outputs ? withOutputs(bodyOf(call), outputs) : bodyOf(call),
      headers,
      call.upstream,
    );

  let answer: UpstreamResponse | undefined;
  let failure: UpstreamError | undefined;
  let keep: ReadonlySet<string> | undefined;
  // The request is on its way upstream (written in this turn); the features are taken meanwhile.
  let sent: Promise<UpstreamResponse> | undefined;
  try {
    sent = send(extra?.names);
  } catch (err) {
    sent = Promise.reject(err);
  }
  const inputs = sampled ? firstRowFeatures(request, exp.columns) : undefined;
  try {
    if (extra) {
      answer = await sent;
      keep = extra.keep;
      if (answer.status >= 400 && answer.status < 500) {
        // Perhaps this model has no predict_proba: ask exactly as the client did.
        answer = await send();
        keep = undefined;
        if (answer.status < 400) variant.augmentable = false;
      }
    } else {
      answer = await sent;
    }
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    failure = err;
  }
  const latencyMs = round3(performance.now() - started);

  let status: number;
  let made: Buffer | undefined;
  let contentType = 'application/json';
  let json: unknown;
  let outputs: RecordedOutputs | undefined;
  let error: string | undefined;
  let upstreamStatus: number | undefined;
  let kept: ReadonlySet<string> | undefined;
  if (failure || !answer) {
    status = failure?.status ?? 502;
    const message = `variant ${variant.name}: ${failure?.message ?? 'no answer'}`;
    // A cancel is the client's doing, not the variant's: recorded, never counted as an error.
    if (status !== 499) error = message;
    made = Buffer.from(JSON.stringify({ error: message }));
  } else if (answer.status >= 500) {
    status = 502;
    upstreamStatus = answer.status;
    error = `variant ${variant.name} (${variant.model}) answered ${answer.status}: ${snippet(answer.body)}`;
    made = Buffer.from(JSON.stringify({ error }));
  } else {
    status = answer.status;
    contentType = answer.contentType ?? contentType;
    if (status === 200 && (wantOutputs || (request.outputs === undefined && !variant.defaultOutputs))) {
      json = answer.json !== undefined ? answer.json : tryParse(answer.body);
      if (json !== undefined) {
        if (request.outputs === undefined && !keep && !variant.defaultOutputs) learnDefaults(variant, json);
        if (wantOutputs) outputs = firstRowOutputs(json);
        if (keep) kept = keep;
      }
    }
  }

  const event: RequestEvent = {
    type: 'request',
    id,
    ts,
    experiment: exp.name,
    variant: variant.name,
    latencyMs,
    status,
    assignment,
  };
  if (debugHeader && assignment === 'debug') event.debugHeader = debugHeader;
  if (hashed && assignment === 'sticky') event.user = hashed.user;
  if (inputs) event.inputs = inputs;
  if (tap?.tensor)
    event.modelInputs = firstRowFeatures({ inputs: [tap.tensor] }, exp.reference?.modelInput?.columns);
  if (outputs && (outputs.predict !== undefined || outputs.proba !== undefined)) event.outputs = outputs;
  if (error) event.error = error;
  if (steps) event.steps = steps;
  // Absent means HTTP, so HTTP events (and older logs) read the same as before.
  if (call.protocol !== 'http') event.protocol = call.protocol;
  core.record(event);
  core.metrics.request(exp.name, variant.name, status, latencyMs / 1000, error !== undefined, call.protocol);
  // Answered only once its event is written: a SIGKILL loses no answered request (docs/router-api.md, "Durability").
  await core.log.written();
  const from = made ? undefined : answer;
  return new Outcome(variant, status, contentType, mirrored, made, from, json, kept, error, upstreamStatus);
}

/**
 * A class, so that `body` is one getter on the prototype that every outcome shares (an accessor
 * in an object literal gives each object a map of its own: `InferCall.body` says what that costs).
 */
class Outcome implements InferOutcome {
  constructor(
    readonly variant: RoutedVariant,
    readonly status: number,
    readonly contentType: string,
    readonly mirrored: boolean,
    private made: Buffer | undefined,
    readonly answer: UpstreamResponse | undefined,
    private readonly json: unknown,
    readonly kept: ReadonlySet<string> | undefined,
    readonly error: string | undefined,
    readonly upstreamStatus: number | undefined,
  ) {}

  get body(): Buffer {
    if (this.made) return this.made;
    const answer = this.answer!;
    return (this.made = this.kept ? keptOutputs(answer.body, this.json, this.kept) : answer.body);
  }
}

/** The outputs to ask for and the ones the client gets back, or undefined when not worth it. */
function extraOutputs(variant: RoutedVariant): ExtraOutputs | undefined {
  const defaults = variant.defaultOutputs;
  // Until the defaults are known the request goes as sent (and teaches them).
  if (!variant.augmentable || !defaults) return undefined;
  let extra = extras.get(defaults);
  if (extra === undefined) {
    const names = [...defaults];
    for (const n of [PREDICT, PREDICT_PROBA]) if (!names.includes(n)) names.push(n);
    extra = names.length === defaults.length ? null : { names, keep: new Set(defaults) };
    extras.set(defaults, extra);
  }
  return extra ?? undefined;
}

interface ExtraOutputs {
  names: string[];
  keep: ReadonlySet<string>;
}

// Per list of default outputs (a variant's, learned once): the same lists for every request.
const extras = new WeakMap<readonly string[], ExtraOutputs | null>();

function learnDefaults(variant: RoutedVariant, json: unknown): void {
  const outs = (json as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outs)) return;
  const names = outs
    .map((o) => (o as { name?: unknown })?.name)
    .filter((n): n is string => typeof n === 'string');
  if (names.length === outs.length) variant.defaultOutputs = names;
}

function bodyOf(call: InferCall): Buffer {
  return typeof call.body === 'function' ? call.body() : call.body;
}

function tryParse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function snippet(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 300)).replace(/\s+/g, ' ').trim();
  return text || '(empty body)';
}
