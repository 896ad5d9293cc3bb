/**
 * JSON text of a large immutable value in pieces, so that writing a checkpoint of a hundred
 * megabytes never holds the event loop for long (./checkpoints.ts): objects are walked key by
 * key, and arrays are written a slice at a time with JSON.stringify. The text is the one
 * JSON.stringify gives, without whitespace. Hand-rolled: it is twenty lines, and a streaming
 * JSON library would bring its own serialiser for what JSON.stringify already does.
 */
const SLICE = 8192;

export function* jsonChunks(value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    yield '[';
    for (let start = 0; start < value.length; start += SLICE) {
      const text = JSON.stringify(value.slice(start, start + SLICE));
      yield (start > 0 ? ',' : '') + text.slice(1, -1);
    }
    yield ']';
  } else if (typeof value === 'object' && value !== null) {
    yield '{';
    let first = true;
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      yield `${first ? '' : ','}${JSON.stringify(key)}:`;
      first = false;
      yield* jsonChunks(v);
    }
    yield '}';
  } else {
    yield JSON.stringify(value) ?? 'null';
  }
}
