/**
 * The Open Inference Protocol's gRPC service, loaded with @grpc/proto-loader from the vendored
 * `grpc_predict_v2.proto`. The file's text is bundled into router.js (esbuild's text loader), so
 * the bundle stays one self-contained file: the bundle ConfigMap and the image carry nothing new.
 *
 * Why proto-loader and not code generated with @bufbuild/protobuf: the router turns every message
 * into V2 JSON anyway (one routing, recording and upstream path for both protocols), so generated
 * classes would buy no speed where it matters, and proto-loader needs no codegen step or generated
 * files to keep in sync — the vendored file is the single source. Fields keep the proto's
 * snake_case names (`keepCase`), the same as the V2 JSON, and int64s are numbers.
 */
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import protoText from '../../shared/grpc_predict_v2.proto';
import { LOADER_OPTIONS } from './tensors';

/** The service name clients call: `inference.GRPCInferenceService`. */
export const SERVICE = 'inference.GRPCInferenceService';

let loaded: ServiceClientConstructor | undefined;

/** The GRPCInferenceService constructor (its `.service` is the definition a server adds). */
export function inferenceService(): ServiceClientConstructor {
  if (!loaded) {
    const root = protobuf.parse(protoText, { keepCase: true }).root;
    const pkg = loadPackageDefinition(fromJSON(root.toJSON(), LOADER_OPTIONS));
    loaded = (pkg.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  }
  return loaded;
}
