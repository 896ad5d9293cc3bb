import assert from 'node:assert/strict';
import { Cancellation } from '../../src/router/grpc/cancellation';
import { UpstreamError, Upstreams } from '../../src/router/proxy';

describe('gRPC front: the call cancellation', () => {
  it('calls each listener once, not the removed ones, and keeps the reason as an AbortSignal does', () => {
    const c = new Cancellation();
    const calls: string[] = [];
    const a = (): number => calls.push('a');
    const b = (): number => calls.push('b');
    c.addEventListener('abort', a);
    c.addEventListener('abort', b);
    c.removeEventListener('abort', a);
    c.abort(new DOMException('the deadline passed', 'TimeoutError'));
    c.abort();
    assert.deepEqual(calls, ['b']);
    assert.equal(c.aborted, true);
    assert.equal((c.reason as Error).name, 'TimeoutError');
    const plain = new Cancellation();
    plain.abort();
    assert.equal((plain.reason as Error).name, 'AbortError');
  });

  it('cancels an upstream call as an AbortSignal would: 499 for a cancel, 504 for a deadline', async () => {
    const upstreams = new Upstreams({ connectMs: 1_000, upstreamMs: 5_000 }, 1);
    // A port nobody answers on quickly enough: the call is still connecting when it is cancelled.
    const target = { origin: 'http://10.255.255.1:9', modelPath: '/v2/models/m' };
    try {
      for (const [reason, status] of [
        [undefined, 499],
        [new DOMException('the deadline passed', 'TimeoutError'), 504],
      ] as const) {
        const c = new Cancellation();
        const call = upstreams.call(target, 'POST', '/infer', Buffer.from('{}'), {}, { signal: c });
        c.abort(reason);
        const err = await call.then(
          () => assert.fail('the call was not cancelled'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof UpstreamError);
        assert.equal(err.status, status);
      }
    } finally {
      await upstreams.close();
    }
  });
});
