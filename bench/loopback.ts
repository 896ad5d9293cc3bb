/**
 * What a loopback TCP message costs on this machine, the floor under every figure of the router
 * benches: a Node client sends 300 bytes to a Node echo process over one connection
 * (TCP_NODELAY), one message a millisecond as at 1,000 req/s, and prints the time spent in
 * `socket.write` (the write(2)) and the round trip, with both ends on one core and on two
 * (taskset). On two cores the echo's core is idle between messages, so each one wakes it.
 * Not part of `npm run bench`: docs/performance.md cites it.
 *
 *   node --import tsx bench/loopback.ts [--messages 20000]
 */
import { execFileSync, spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { numberArg } from './lib/args';

const MESSAGES = numberArg('--messages', 20_000);

if (process.argv[2] === 'echo') {
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
} else if (process.argv[2] === 'client') {
  await client(Number(process.argv[3]));
} else {
  if (cpus().length < 2)
    throw new Error('bench/loopback.ts compares one core with two: this machine has one');
  for (const [mine, echo] of [
    [0, 0],
    [0, 1],
  ] as const) {
    // The client pinned as well: a child of taskset, so its own core is fixed.
    const out = execFileSync(
      'taskset',
      [
        '-c',
        String(mine),
        process.execPath,
        ...process.execArgv,
        process.argv[1]!,
        'client',
        String(echo),
        '--messages',
        String(MESSAGES),
      ],
      { encoding: 'utf8' },
    );
    console.log(`client on core ${mine}, echo on core ${echo}: ${out.trim()}`);
  }
}

async function client(echoCore: number): Promise<void> {
  const echo = spawn('taskset', [
    '-c',
    String(echoCore),
    process.execPath,
    ...process.execArgv,
    process.argv[1]!,
    'echo',
  ]);
  const port = await new Promise<number>((resolve) =>
    echo.stdout.once('data', (d) => resolve(Number(String(d)))),
  );
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const message = Buffer.alloc(300, 97);
  let writeNs = 0n;
  let roundNs = 0n;
  let done = 0;
  let sent = 0n;
  await new Promise<void>((resolve) => {
    const send = (): void => {
      sent = process.hrtime.bigint();
      socket.write(message);
      writeNs += process.hrtime.bigint() - sent;
    };
    socket.on('data', () => {
      roundNs += process.hrtime.bigint() - sent;
      if (++done === MESSAGES) resolve();
      else setTimeout(send, 1);
    });
    send();
  });
  const us = (ns: bigint): string => (Number(ns) / MESSAGES / 1000).toFixed(1);
  console.log(`write(2) ${us(writeNs)} µs, round trip ${us(roundNs)} µs (${MESSAGES} messages)`);
  socket.destroy();
  echo.kill();
}
