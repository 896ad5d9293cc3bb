/**
 * A V2 gRPC model server stub for the gRPC benches: every ModelInfer gets one fixed
 * ModelInferResponse (`predict` [0], `predict_proba` [[0.6, 0.4]]), encoded once, on the router's
 * own HTTP/2 server (`src/router/h2/`). The tests' fake (test/harness/grpcUpstream.ts, grpc-js)
 * spends about 320 µs of CPU a call; on 2 cores beside ghz and the router that is most of a core
 * at 1,000 req/s, and both the direct and the routed latencies queue behind it. The stub is the
 * gRPC counterpart of the HTTP benches' stub upstream: what is left is the router's own cost.
 * Prints "grpc upstream listening on 127.0.0.1:<port>" like the fake.
 *
 *   node --import tsx bench/lib/grpcStub.ts
 */
import protobuf from 'protobufjs';
import { frame } from '../../src/router/grpc/wire';
import { createH2Server } from '../../src/router/h2/server';
import type { H2Stream, StreamHandler } from '../../src/router/h2/stream';
import { PROTO_FILE } from '../../test/harness/grpcClient';

const Response = new protobuf.Root()
  .loadSync(PROTO_FILE, { keepCase: true })
  .lookupType('inference.ModelInferResponse');

const ANSWER = Buffer.from(
  frame(
    Response.encode({
      model_name: 'stub',
      outputs: [
        { name: 'predict', datatype: 'INT64', shape: [1], contents: { int64_contents: [0] } },
        { name: 'predict_proba', datatype: 'FP64', shape: [1, 2], contents: { fp64_contents: [0.6, 0.4] } },
      ],
    }).finish(),
  ),
);
const HEAD = [':status', '200', 'content-type', 'application/grpc'];
const TRAILERS = ['grpc-status', '0'];

/** One handler for every stream: the request's bytes are not needed, only its end. */
const answer: StreamHandler = {
  headers() {},
  data() {},
  end(stream: H2Stream) {
    stream.sendHeaders(HEAD, false);
    stream.write(ANSWER, false);
    stream.sendHeaders(TRAILERS, true);
  },
  close() {},
};

const { server } = createH2Server(
  (stream) => {
    stream.handler = answer;
  },
  { maxConcurrentStreams: 1_000 },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(
    `grpc upstream listening on 127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  );
});
