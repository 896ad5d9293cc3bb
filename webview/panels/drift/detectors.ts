/** Bring-your-own detectors on the drift panel: their verdicts as text, beside the heatmap. */
import { h } from '../../dom';
import { detectorLines } from '../../../src/shared/detectorsText';
import type { DetectorsReport } from '../../../src/shared/detectors';

export function detectorsView(report: DetectorsReport): HTMLElement {
  return h(
    'ul',
    { class: 'mc-detectors', 'aria-label': 'Alibi Detect detectors' },
    ...detectorLines(report).map((line) => h('li', {}, line)),
  );
}
