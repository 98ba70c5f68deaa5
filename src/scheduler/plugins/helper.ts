// Shared scoring helpers, as in upstream's plugins/helper (normalize_score.go).

/** framework.MaxNodeScore. */
export const MAX_NODE_SCORE = 100;

/**
 * helper.DefaultNormalizeScore: scale so the highest score becomes 100 (integer
 * division, as Go's int64 arithmetic); with `reverse`, 100 minus that. When
 * every score is 0, reverse sets them all to 100 and plain leaves them at 0.
 */
export function defaultNormalizeScore(scores: Int32Array | number[], count: number, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < count; i++) if ((scores[i] as number) > max) max = scores[i] as number;
  if (max === 0) {
    if (reverse) for (let i = 0; i < count; i++) scores[i] = MAX_NODE_SCORE;
    return;
  }
  for (let i = 0; i < count; i++) {
    const s = Math.trunc((MAX_NODE_SCORE * (scores[i] as number)) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
