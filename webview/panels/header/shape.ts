import type { Report } from '../../../src/shared/report';
import { splitText } from '../../../src/shared/format';
import { currentWeights, variantOrder } from '../../variants';

/** The header's split: "v1 95% · v2 5% · v3 shadow". */
export function headerSplit(report: Report): string {
  const text = splitText(currentWeights(report), variantOrder(report));
  const shadow = report.shadow?.variant;
  return shadow ? `${text} · ${shadow} shadow` : text;
}
