// Evaluation metrics for labelled data (benchmarks, tests, and an API that reports model quality).

import { EngineError } from './errors.js';

/**
 * Area under the ROC curve (higher score = more anomalous, label 1 = anomaly) by the Mann–Whitney
 * statistic, tied scores taking their average rank, as scikit-learn's `roc_auc_score` defines it.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) {
    throw new EngineError('DimensionMismatch', `auroc: ${n} scores but ${labels.length} labels`, {
      field: 'labels',
    });
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i] === 1 ? 1 : 0;
  const neg = n - pos;
  if (pos === 0 || neg === 0) {
    throw new EngineError('InvalidParameter', 'auroc: labels must contain both classes', { field: 'labels' });
  }
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    const si = scores[order[i] ?? 0];
    while (j + 1 < n && scores[order[j + 1] ?? 0] === si) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let q = i; q <= j; q++) if (labels[order[q] ?? 0] === 1) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
