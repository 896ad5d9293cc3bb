/**
 * Compact forms for the id memories' checkpoints (./idMemories.ts, ./idTable.ts): the slots a
 * memory holds are mostly consecutive (ids arrive in order and take the next slot), so they are
 * written as runs; and most values kept by slot are small integers (a variant's index, a class,
 * a 0/1 outcome), written as bytes when all of them are.
 */

/** Ascending slots → [first, length, first, length, …]. */
export function toRuns(slots: ArrayLike<number>): Int32Array {
  const runs: number[] = [];
  for (let i = 0; i < slots.length;) {
    const first = slots[i]!;
    let n = 1;
    while (i + n < slots.length && slots[i + n] === first + n) n++;
    runs.push(first, n);
    i += n;
  }
  return Int32Array.from(runs);
}

/** The slots of toRuns' runs. */
export function fromRuns(runs: ArrayLike<number>): Int32Array {
  let total = 0;
  for (let r = 1; r < runs.length; r += 2) total += runs[r]!;
  const slots = new Int32Array(total);
  let k = 0;
  for (let r = 0; r < runs.length; r += 2) for (let j = 0; j < runs[r + 1]!; j++) slots[k++] = runs[r]! + j;
  return slots;
}

/** The numbers as bytes when every one is an integer from 0 to 255, else as 64-bit floats. */
export function packNumbers(xs: ArrayLike<number>): Uint8Array | Float64Array {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!((x | 0) === x && x >= 0 && x <= 255) || (x === 0 && 1 / x < 0)) return Float64Array.from(xs);
  }
  return Uint8Array.from(xs);
}
