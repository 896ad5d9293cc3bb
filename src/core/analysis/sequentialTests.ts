/** The always-valid sequential test of each candidate's primary proportion metric, kept across reports. */
import { SequentialTest, defaultMixingVariance } from '../stats';

/** Baseline requests seen before the sequential test fixes its mixing variance and starts. */
export const SEQUENTIAL_WARMUP = 1000;

/** The smallest absolute lift worth detecting: 10% relative, at least 0.5 percentage points. */
export function minimumDetectableEffect(baselineRate: number): number {
  return Math.max(0.005, baselineRate * 0.1);
}

/** One sequential test per candidate, started once the baseline has enough requests. */
export class SequentialTests {
  private readonly tests = new Map<string, SequentialTest>();

  /**
   * The always-valid p-value of a candidate. The mixing variance τ² is fixed once, as the
   * square of the minimum detectable effect (the same one the sample-size estimate uses),
   * from the baseline's rate after SEQUENTIAL_WARMUP baseline requests — never from the
   * observed lift; before that the test has not started and the p-value is 1.
   */
  pValue(variant: string, xb: number, nb: number, xv: number, nv: number): number {
    let test = this.tests.get(variant);
    if (!test) {
      if (nb < SEQUENTIAL_WARMUP || xb === 0) return 1;
      test = new SequentialTest({
        tau2: defaultMixingVariance(xb / nb, { absolute: minimumDetectableEffect(xb / nb) }),
      });
      this.tests.set(variant, test);
    }
    try {
      return test.update(xb, nb, xv, nv).pValue;
    } catch {
      // Counts went down (a conversion was corrected to 0): restart the test on the new counts.
      test = new SequentialTest({
        tau2: defaultMixingVariance(xb / nb, { absolute: minimumDetectableEffect(xb / nb) }),
      });
      this.tests.set(variant, test);
      return test.update(xb, nb, xv, nv).pValue;
    }
  }
}
