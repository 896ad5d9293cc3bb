/**
 * How the router and the simulator load the vendored `grpc_predict_v2.proto` (beside this file)
 * with @grpc/proto-loader: the proto's snake_case names (as in V2 JSON), int64 as numbers, every
 * field present, oneofs named. Plain data, so this folder stays free of Node.
 */
export const GRPC_LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
} as const;
