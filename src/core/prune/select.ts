// Mask selection, exactly as the published code selects (1 = prune). Scores are non-negative.

/** Global threshold over all scores: thresh = sort(scores)[floor(n · sparsity)], prune scores <= thresh
 * (wanda's prune_magnitude and SparseGPT's per-block unstructured mask). */
export function thresholdMask(scores: Float64Array, sparsity: number, mask: Uint8Array): void {
  if (sparsity <= 0) return;
  const sorted = Float64Array.from(scores).sort();
  const thresh = sorted[Math.min(sorted.length - 1, Math.floor(scores.length * sparsity))];
  for (let i = 0; i < scores.length; i++) if (scores[i] <= thresh) mask[i] = 1;
}

/** Per row, prune the floor(C · sparsity) lowest scores, ties broken by column (a stable sort:
 * wanda's prune_wanda). scores: (R, C). */
export function rowwiseMask(scores: Float64Array, R: number, C: number, sparsity: number, mask: Uint8Array): void {
  const k = Math.floor(C * sparsity);
  if (k === 0) return;
  const idx = new Uint32Array(C);
  for (let r = 0; r < R; r++) {
    const o = r * C;
    for (let j = 0; j < C; j++) idx[j] = j;
    idx.sort((a, b) => scores[o + a] - scores[o + b] || a - b);
    for (let j = 0; j < k; j++) mask[o + idx[j]] = 1;
  }
}

/** N:M: in each row, prune the N lowest of every M consecutive columns (first index wins ties). */
export function nmMask(scores: Float64Array, R: number, C: number, n: number, m: number, mask: Uint8Array): void {
  for (let r = 0; r < R; r++) {
    for (let g = 0; g < C; g += m) {
      const width = Math.min(m, C - g);
      for (let k = 0; k < Math.min(n, width); k++) {
        let best = -1;
        for (let j = 0; j < width; j++) {
          const i = r * C + g + j;
          if (mask[i]) continue;
          if (best < 0 || scores[i] < scores[best]) best = i;
        }
        mask[best] = 1;
      }
    }
  }
}
