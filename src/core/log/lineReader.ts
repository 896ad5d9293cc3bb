/**
 * Reads a JSON Lines file in big chunks and hands over its lines one at a time, synchronously
 * within each chunk (no promise per line). Lines break where node:readline breaks them
 * (`\n`, `\r\n`, and a lone `\r`), so line numbers match what readline counted; the bytes are
 * decoded as UTF-8 a chunk at a time, cut at a newline so that no character is split.
 */
import { open } from 'node:fs/promises';

const CHUNK = 8 * 1024 * 1024;

/** Called with each line (without its line break) and its 1-based number. */
export type LineSink = (line: string, lineNo: number) => void;

/**
 * Offered each `\n`-terminated piece of a chunk as bytes [start, end) before it is decoded:
 * true when it took the piece as one line (it holds no `\r`); false sends the piece the usual way
 * (decoded, split as readline splits, each line to the `LineSink`).
 */
export type ByteLineSink = (bytes: Buffer, start: number, end: number) => boolean;

export interface ReadLinesResult {
  lines: number;
  /** Bytes read (the position of the end). */
  bytes: number;
  /** Whether the last line read ended in `\n` (no torn tail). */
  terminated: boolean;
}

/**
 * Calls `sink` for every line of `file` from byte `start` (a line's start), numbering them from
 * `firstLine + 1`. A last line without a line break is included.
 */
export async function readLines(
  file: string,
  sink: LineSink,
  options: { start?: number; firstLine?: number; chunkBytes?: number; bytes?: ByteLineSink } = {},
): Promise<ReadLinesResult> {
  const bytes = options.bytes;
  const handle = await open(file, 'r');
  // A pipe (`--events <(zcat log.gz)`) is read as it comes, without positions.
  const seekable = (await handle.stat()).isFile();
  let position = options.start ?? 0;
  let lineNo = options.firstLine ?? 0;
  let buffer = Buffer.allocUnsafe(options.chunkBytes ?? CHUNK);
  let carry = 0;
  let terminated = true;
  try {
    for (;;) {
      if (carry === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, carry);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(
        buffer,
        carry,
        buffer.length - carry,
        seekable ? position : null,
      );
      position += bytesRead;
      const filled = carry + bytesRead;
      const end = bytesRead === 0 ? filled : buffer.lastIndexOf(10, filled - 1) + 1;
      if (end === 0 && bytesRead > 0) {
        carry = filled;
        continue;
      }
      if (end > 0) {
        terminated = buffer[end - 1] === 10;
        lineNo = bytes
          ? splitPieces(buffer, end, lineNo, sink, bytes)
          : splitLines(buffer.toString('utf8', 0, end), lineNo, sink);
      }
      if (bytesRead === 0) break;
      buffer.copy(buffer, 0, end, filled);
      carry = filled - end;
    }
  } finally {
    await handle.close();
  }
  return { lines: lineNo, bytes: position, terminated };
}

/**
 * The `\n`-terminated pieces of `buffer` before `end` (the last may be unterminated at the end of
 * the file), each offered to `bytes` first; the ones it does not take are decoded and split as
 * before. Returns the last line number.
 */
function splitPieces(
  buffer: Buffer,
  end: number,
  lineNo: number,
  sink: LineSink,
  bytes: ByteLineSink,
): number {
  let start = 0;
  while (start < end) {
    let nl = buffer.indexOf(10, start);
    if (nl < 0 || nl >= end) nl = end; // the file's unterminated last line
    if (nl > start && bytes(buffer, start, nl)) lineNo++;
    // Decoded with its line break, so that splitLines sees what it saw in the whole chunk.
    else lineNo = splitLines(buffer.toString('utf8', start, Math.min(nl + 1, end)), lineNo, sink);
    start = nl + 1;
  }
  return lineNo;
}

/**
 * The lines of `text`, which ends in `\n` except at the end of the file; returns the last line
 * number. As readline: `\r\n` is one break, a lone `\r` is one too, and an empty unterminated
 * tail is no line.
 */
function splitLines(text: string, lineNo: number, sink: LineSink): number {
  let start = 0;
  const n = text.length;
  while (start < n) {
    let nl = text.indexOf('\n', start);
    const terminated = nl >= 0;
    if (!terminated) nl = n;
    let line = text.slice(start, nl);
    start = nl + 1;
    if (line.includes('\r')) {
      if (terminated && line.endsWith('\r')) line = line.slice(0, -1);
      const parts = line.split('\r');
      for (let i = 0; i < parts.length - 1; i++) sink(parts[i]!, ++lineNo);
      line = parts[parts.length - 1]!;
    }
    if (!terminated && line === '') break;
    sink(line, ++lineNo);
  }
  return lineNo;
}
