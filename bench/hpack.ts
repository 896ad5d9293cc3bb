/**
 * HPACK (src/router/h2/hpack.ts) on the blocks of a gRPC call, ns per operation:
 *  - decode, first call: a ModelInfer request's headers as grpc-go (and so ghz) sends them on a
 *    new connection: every field not an exact static match as a Huffman-coded literal with
 *    incremental indexing, into a fresh decoder;
 *  - decode, repeat calls: the next calls on that connection, in order: mostly one-byte references
 *    to the dynamic table, plus a new `grpc-timeout` value each call (which grpc-go also indexes,
 *    so the table churns and older entries are evicted and sent again, as in real traffic);
 *  - encode: the router's 4-field response headers.
 * The fastest of several rounds counts.
 *   node --import tsx bench/hpack.ts [rounds]
 */
import { HpackDecoder, HpackEncoder } from '../src/router/h2/hpack';
import { HpackPeer } from '../test/harness/hpackPeer';

const rounds = Number(process.argv[2] ?? 7);
const CALLS = 4096;

function request(call: number): string[] {
  // ghz's default 20 s deadline, as grpc-go writes what is left of it: microseconds, varying.
  const timeout = `${19_999_000 + ((call * 7919) % 997)}u`;
  return [
    ...[':method', 'POST', ':scheme', 'http', ':path', '/inference.GRPCInferenceService/ModelInfer'],
    ...[':authority', '127.0.0.1:8090', 'content-type', 'application/grpc', 'user-agent', 'grpc-go/1.64.0'],
    ...['te', 'trailers', 'grpc-accept-encoding', 'gzip', 'grpc-timeout', timeout],
    ...['x-request-id', 'bench-fixed-id'],
  ];
}

const peer = new HpackPeer();
const blocks = Array.from({ length: CALLS }, (_, call) => peer.encode(request(call)));
const first = blocks[0]!;
const response = [
  ':status',
  '200',
  'content-type',
  'application/grpc',
  'x-model-canary-variant',
  'candidate',
];
response.push('x-request-id', '0f3c2a9e-5b1d-4c6e-9a7f-2d8e1b4c6a30');

// Checks before timing: every block decodes to what was sent.
const check = new HpackDecoder();
blocks.forEach((b, call) => {
  if (check.decode(b).join('\n') !== request(call).join('\n'))
    throw new Error(`call ${call} decodes wrongly`);
});

let sink = 0;

function firstCall(): number {
  const decoders = Array.from({ length: CALLS }, () => new HpackDecoder());
  const start = process.hrtime.bigint();
  for (const decoder of decoders) sink += decoder.decode(first).length;
  return Number(process.hrtime.bigint() - start) / CALLS;
}

function repeatCalls(): number {
  const decoder = new HpackDecoder();
  const start = process.hrtime.bigint();
  for (const block of blocks) sink += decoder.decode(block).length;
  return Number(process.hrtime.bigint() - start) / CALLS;
}

function encodes(): number {
  const encoder = new HpackEncoder();
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) sink += encoder.encode(response).length;
  return Number(process.hrtime.bigint() - start) / CALLS;
}

const best = { first: Infinity, repeat: Infinity, encode: Infinity };
for (let r = 0; r < rounds; r++) {
  best.first = Math.min(best.first, firstCall());
  best.repeat = Math.min(best.repeat, repeatCalls());
  best.encode = Math.min(best.encode, encodes());
}
const repeatBytes = blocks.slice(1).reduce((sum, b) => sum + b.length, 0) / (CALLS - 1);
console.log(`decode, first call   (${first.length} bytes, 10 fields): ${best.first.toFixed(0)} ns`);
console.log(
  `decode, repeat calls (${repeatBytes.toFixed(1)} bytes on average): ${best.repeat.toFixed(0)} ns`,
);
console.log(
  `encode, 4-field response (${new HpackEncoder().encode(response).length} bytes): ${best.encode.toFixed(0)} ns`,
);
if (sink === 0) console.log('');
