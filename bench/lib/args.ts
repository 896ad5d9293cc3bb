/** Numeric flags of the bench scripts (`--seconds 10`). */

/** The number after `name` on the command line, or `fallback` when it is absent, 0 or not a number. */
export const numberArg = (name: string, fallback: number): number =>
  Number(process.argv[process.argv.indexOf(name) + 1]) || fallback;

/** A share after `name` (0 included, unlike `numberArg`), or `fallback` when the flag is absent. */
export const shareArg = (name: string, fallback: number): number =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback;
