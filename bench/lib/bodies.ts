/** Request bodies the HTTP benches share. */

/** A V2 request of about 1 kB: a batch of 18 rows of the six sample features. */
export function kilobyteBody(): string {
  const rows = 18;
  const col = <T>(f: (i: number) => T): T[] => Array.from({ length: rows }, (_, i) => f(i));
  const req = {
    parameters: { content_type: 'pd' },
    inputs: [
      { name: 'age', shape: [rows], datatype: 'INT64', data: col((i) => 25 + 5 * i) },
      { name: 'tenure_months', shape: [rows], datatype: 'INT64', data: col((i) => 3 * i + 1) },
      { name: 'sessions_30d', shape: [rows], datatype: 'INT64', data: col((i) => 2 * i) },
      {
        name: 'basket_value',
        shape: [rows],
        datatype: 'FP64',
        data: col((i) => Number((12.5 * i + 0.99).toFixed(2))),
      },
      {
        name: 'channel',
        shape: [rows],
        datatype: 'BYTES',
        data: col((i) => ['web', 'app', 'email', 'store'][i % 4]!),
      },
      {
        name: 'region',
        shape: [rows],
        datatype: 'BYTES',
        data: col((i) => ['north', 'south', 'east', 'west'][i % 4]!),
      },
    ],
  };
  return JSON.stringify(req);
}
