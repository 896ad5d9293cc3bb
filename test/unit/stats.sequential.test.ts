import assert from 'node:assert/strict';
import { defaultMixingVariance, msprtPValue, SequentialTest, twoProportionZTest } from '../../src/core/stats';
import { seededRandom as mulberry32 } from '../../src/core/stats/random';
import { assertClose } from '../harness/statsFixtures';

describe('always-valid sequential p-values (mixture SPRT)', () => {
  it("equals the paper's two-sample statistic when both arms have n trials", () => {
    // Johari et al.: Λ = sqrt(2σ²/(2σ² + nτ²)) · exp(n²τ²θ̂² / (4σ²(2σ² + nτ²))), σ² = p̄(1 − p̄).
    const n = 5000;
    const [xb, xv] = [500, 560];
    const tau2 = 1e-4;
    const pbar = (xb + xv) / (2 * n);
    const s2 = pbar * (1 - pbar);
    const theta = xv / n - xb / n;
    const expected =
      Math.sqrt((2 * s2) / (2 * s2 + n * tau2)) *
      Math.exp((n * n * tau2 * theta * theta) / (4 * s2 * (2 * s2 + n * tau2)));
    const r = msprtPValue(xb, n, xv, n, { tau2 });
    assertClose(r.lambda, expected, 1e-12, 0, 'lambda');
    assertClose(r.pValue, Math.min(1, 1 / expected), 1e-12, 0, 'p');
  });

  it('grows with the size of the lift, is symmetric in its sign, and caps p at 1', () => {
    const tau2 = defaultMixingVariance(0.1);
    const small = msprtPValue(1000, 10000, 510, 5000, { tau2 });
    const large = msprtPValue(1000, 10000, 650, 5000, { tau2 });
    const swapped = msprtPValue(650, 5000, 1000, 10000, { tau2 });
    assert.ok(large.lambda > small.lambda);
    assertClose(swapped.lambda, large.lambda, 1e-12, 0, 'symmetric');
    assert.equal(small.pValue, 1, 'a small lift at this size is no evidence: Λ < 1');
    assertClose(large.pValue, 1 / large.lambda, 1e-12, 0, 'p = 1/Λ');
    assert.ok(large.pValue < 0.05);
  });

  it('gives Λ 1 and p 1 without traffic in an arm, with a pooled rate of 0, or with τ² = 0', () => {
    assert.deepEqual(msprtPValue(10, 100, 0, 0, { tau2: 1e-4 }), { lambda: 1, pValue: 1 });
    assert.deepEqual(msprtPValue(0, 100, 0, 10, { tau2: 1e-4 }), { lambda: 1, pValue: 1 });
    assert.deepEqual(msprtPValue(10, 100, 9, 10, { tau2: 0 }), { lambda: 1, pValue: 1 });
    assert.throws(() => msprtPValue(10, 100, 9, 10, { tau2: -1 }), /tau2/);
  });

  it('chooses τ² as the square of the minimum detectable effect (default a 5% relative lift)', () => {
    assertClose(defaultMixingVariance(0.1), 0.005 ** 2, 1e-12, 0, 'relative default');
    assertClose(defaultMixingVariance(0.1, { absolute: 0.01 }), 1e-4, 1e-12, 0, 'absolute');
    assert.equal(defaultMixingVariance(0), 0);
  });

  it('keeps the running minimum, so the p-value never increases across looks', () => {
    const test = new SequentialTest({ tau2: defaultMixingVariance(0.1) });
    const looks = [
      [100, 1000, 20, 50],
      [190, 2000, 22, 100],
      [300, 3000, 30, 150],
      [400, 4000, 40, 200],
    ] as const;
    let previous = 1;
    let sawIncreaseAtLook = false;
    for (const [xb, nb, xv, nv] of looks) {
      const r = test.update(xb, nb, xv, nv);
      assert.ok(r.pValue <= previous, 'non-increasing');
      assert.equal(r.pValue, Math.min(previous, r.pValueAtLook));
      if (r.pValueAtLook > previous) sawIncreaseAtLook = true;
      previous = r.pValue;
    }
    assert.ok(sawIncreaseAtLook, 'the per-look p-value went back up; the running one did not');
    assert.equal(test.pValue, previous);
    assert.throws(() => test.update(0, 10, 0, 10), /counts went down/);
  });

  it('keeps the false-positive rate ≤ 5% over 20 peeks in 500 seeded A/A canaries, where a peeked z-test exceeds it', () => {
    const rand = mulberry32(0x5eed);
    const experiments = 500;
    const checkpoints = 20;
    const requestsPerCheckpoint = 2_000;
    const rate = 0.1;
    const canaryShare = 0.05;
    const alpha = 0.05;
    const tau2 = defaultMixingVariance(rate);
    let naiveFalsePositives = 0;
    let sequentialFalsePositives = 0;
    for (let e = 0; e < experiments; e++) {
      const test = new SequentialTest({ tau2 });
      let [xb, nb, xv, nv] = [0, 0, 0, 0];
      let naiveRejected = false;
      let sequentialRejected = false;
      for (let k = 0; k < checkpoints; k++) {
        for (let i = 0; i < requestsPerCheckpoint; i++) {
          const converted = rand() < rate ? 1 : 0;
          if (rand() < canaryShare) {
            nv += 1;
            xv += converted;
          } else {
            nb += 1;
            xb += converted;
          }
        }
        if (twoProportionZTest(xb, nb, xv, nv).pValue < alpha) naiveRejected = true;
        if (test.update(xb, nb, xv, nv).pValue < alpha) sequentialRejected = true;
      }
      if (naiveRejected) naiveFalsePositives += 1;
      if (sequentialRejected) sequentialFalsePositives += 1;
    }
    const naiveRate = naiveFalsePositives / experiments;
    const sequentialRate = sequentialFalsePositives / experiments;
    assert.ok(sequentialRate <= alpha, `sequential false-positive rate ${sequentialRate}`);
    assert.ok(naiveRate > alpha, `peeked z-test false-positive rate ${naiveRate}`);
  });

  it('still detects a real 20% lift (10% → 12%, 50/50, 20 looks of 1,000 requests) in most of 200 seeded experiments', () => {
    const rand = mulberry32(11);
    const tau2 = defaultMixingVariance(0.1);
    let detected = 0;
    for (let e = 0; e < 200; e++) {
      const test = new SequentialTest({ tau2 });
      let [xb, nb, xv, nv] = [0, 0, 0, 0];
      for (let k = 0; k < 20; k++) {
        for (let i = 0; i < 1_000; i++) {
          if (rand() < 0.5) {
            nv += 1;
            xv += rand() < 0.12 ? 1 : 0;
          } else {
            nb += 1;
            xb += rand() < 0.1 ? 1 : 0;
          }
        }
        test.update(xb, nb, xv, nv);
      }
      if (test.pValue < 0.05) detected += 1;
    }
    assert.ok(detected / 200 > 0.7, `detected in ${detected} of 200`);
  });
});
