/**
 * The Open Inference Protocol's messages, typed by protobufjs from the vendored
 * `grpc_predict_v2.proto` (src/shared, with its source and licence). The file's text is bundled
 * into router.js (esbuild's text loader), so the bundle stays one self-contained file.
 *
 * Why protobufjs reflection and not code generated with @bufbuild/protobuf: the router turns an
 * inference message into V2 JSON anyway (one routing, recording and upstream path for both
 * protocols), so generated classes would buy no speed where it matters, and reflection needs no
 * codegen step or generated files to keep in sync — the vendored file is the single source.
 * The one hot read, ModelInfer's request and the upstream's answer, is `protoRead.ts`.
 * Messages decode to the shapes @grpc/proto-loader gives (`GRPC_LOADER_OPTIONS`: the proto's
 * snake_case names, int64 as numbers, every field present, oneofs named), the shapes
 * `tensors.ts` and the tests' grpc-js clients use.
 */
import protobuf from 'protobufjs';
import protoText from '../../shared/grpc_predict_v2.proto';
import { GRPC_LOADER_OPTIONS } from '../../shared/grpcProto';

let root: protobuf.Root | undefined;
const types = new Map<string, protobuf.Type>();

function type(name: string): protobuf.Type {
  let t = types.get(name);
  if (!t) {
    root ??= protobuf.parse(protoText, { keepCase: true }).root;
    t = root.lookupType(`inference.${name}`);
    types.set(name, t);
  }
  return t;
}

/** Decodes `bytes` as the message `name` (e.g. `ModelInferRequest`); throws on malformed bytes. */
export function decodeMessage<T>(name: string, bytes: Uint8Array): T {
  const t = type(name);
  return t.toObject(t.decode(bytes), GRPC_LOADER_OPTIONS as protobuf.IConversionOptions) as T;
}

/** Encodes a plain object (proto-loader's shape) as the message `name`. */
export function encodeMessage(name: string, value: object): Uint8Array {
  const t = type(name);
  return t.encode(t.fromObject(value)).finish();
}
