/**
 * A ModelInferResponse's bytes without the outputs the client did not ask for: when the router
 * asked a gRPC variant for `predict` and `predict_proba` on top of the model's default outputs
 * (route.ts), the client gets the variant's own message with the extra `outputs` (field 5) and
 * their `raw_output_contents` (field 6, in the same order) left out, every other field as the
 * variant sent it. Cheaper than re-encoding the answer from V2 JSON, and INT64s stay exact.
 */

/**
 * `message` keeping the i-th output (and its raw contents) where `keep[i]`; undefined when the
 * bytes are not plain protobuf fields (the caller re-encodes instead).
 */
export function withoutOutputs(message: Uint8Array, keep: readonly boolean[]): Buffer | undefined {
  const parts: Uint8Array[] = [];
  let outputs = 0;
  let raws = 0;
  let pos = 0;
  let kept = 0; // start of the run of bytes kept so far
  while (pos < message.length) {
    const start = pos;
    const tag = varint(message, pos);
    if (!tag) return undefined;
    pos = tag.end;
    const field = Math.floor(tag.value / 8);
    switch (tag.value % 8) {
      case 0: {
        const v = varint(message, pos);
        if (!v) return undefined;
        pos = v.end;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint(message, pos);
        if (!len) return undefined;
        pos = len.end + len.value;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        return undefined;
    }
    if (pos > message.length) return undefined;
    const drop = (field === 5 && !keep[outputs++]) || (field === 6 && !keep[raws++]);
    if (drop) {
      if (start > kept) parts.push(message.subarray(kept, start));
      kept = pos;
    }
  }
  if (message.length > kept) parts.push(message.subarray(kept));
  return Buffer.concat(parts);
}

function varint(bytes: Uint8Array, at: number): { value: number; end: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return { value, end: i + 1 };
  }
  return undefined;
}
