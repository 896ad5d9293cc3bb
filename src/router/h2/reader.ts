/**
 * Frames out of the bytes a socket delivered (RFC 9113, 4.1): each whole frame goes to the
 * connection as it is cut, its payload a view of the chunk (no copy); a frame's tail still to
 * come is left for the next read.
 */
import { ConnectionError, ErrorCode, Flag, protocolError } from './frames';

export interface FrameSink {
  readonly destroyed: boolean;
  frame(type: number, flags: number, id: number, payload: Buffer): void;
}

/** Hands every whole frame of `bytes` to `sink`; returns the bytes used. */
export function readFrames(bytes: Buffer, maxFrame: number, sink: FrameSink): number {
  let at = 0;
  while (bytes.length - at >= 9) {
    const length = (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
    if (length > maxFrame)
      throw new ConnectionError(
        ErrorCode.FRAME_SIZE_ERROR,
        `a frame of ${length} bytes, over SETTINGS_MAX_FRAME_SIZE (${maxFrame})`,
      );
    if (bytes.length - at - 9 < length) break;
    const type = bytes[at + 3]!;
    const flags = bytes[at + 4]!;
    const id = bytes.readUInt32BE(at + 5) & 0x7fffffff;
    const payload = bytes.subarray(at + 9, at + 9 + length);
    at += 9 + length;
    sink.frame(type, flags, id, payload);
    if (sink.destroyed) return at;
  }
  return at;
}

/**
 * A DATA or HEADERS payload without its padding (RFC 9113, 6.1 and 6.2) and, for HEADERS with
 * PRIORITY, the `skip` bytes of priority fields after the pad length.
 */
export function unpadded(flags: number, payload: Buffer, skip: number): Buffer {
  if (!(flags & Flag.PADDED)) return skip === 0 ? payload : tail(payload, skip);
  const pad = payload[0] ?? 0;
  if (1 + skip + pad > payload.length) throw protocolError('padding longer than the frame');
  return payload.subarray(1 + skip, payload.length - pad);
}

function tail(payload: Buffer, skip: number): Buffer {
  if (skip > payload.length) throw protocolError('HEADERS shorter than its priority fields');
  return payload.subarray(skip);
}
