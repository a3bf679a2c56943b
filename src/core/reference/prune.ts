// Independent float64 references of the published one-shot pruning algorithms, written line by line
// from the authors' code, to validate the GPU implementation:
//   - SparseGPT (Frantar & Alistarh 2023), IST-DASLab/sparsegpt sparsegpt.py: SparseGPT.add_batch
//     and SparseGPT.fasterprune.
//   - Wanda (Sun et al. 2023), locuslab/wanda lib/layerwrapper.py WrappedGPT.add_batch and
//     lib/prune.py prune_wanda (default path, use_variant=False).
//   - Magnitude, locuslab/wanda lib/prune.py prune_magnitude.
// It shares no code with the engine. Speed is irrelevant; every value is a float64 (the published
// code runs in float32, so results agree to float32 round-off, up to exact ties in a sort).
//
// Conventions: a weight is a Float64Array (R, C) row-major, R = out features, C = in features, as
// torch.nn.Linear stores it (GPT-2 Conv1D weights must be transposed first, as SparseGPT does).
// Calibration inputs X are (T, C) row-major: T tokens of one sequence. Masks are Uint8Array (R, C)
// with 1 = pruned. Functions never modify their inputs.
//
// Tie-breaking (torch leaves it unspecified for topk): among equal scores, N:M selection prunes the
// lower column index first. Unstructured thresholds (magnitude, SparseGPT) follow the published
// `metric <= sort(metric)[int(numel * sparsity)]`, which prunes every tied value, and so at least
// int(numel * sparsity) + 1 weights (per matrix, or per SparseGPT block).

import { BadOption, NumericalError } from '../errors.ts';
import type { Vec } from './kernels.ts';

/** Unstructured sparsity in [0, 1), or N:M (prune N of every M consecutive input columns). */
export type PrunePattern = { sparsity: number } | { n: number; m: number };

function isNM(p: PrunePattern): p is { n: number; m: number } {
  return 'n' in p;
}

export function checkPattern(p: PrunePattern): void {
  if (isNM(p)) {
    if (!Number.isInteger(p.n) || !Number.isInteger(p.m) || p.n < 1 || p.m < 2 || p.n >= p.m) {
      throw new BadOption(`N:M pattern needs integers 1 <= N < M, got ${p.n}:${p.m}.`);
    }
  } else if (!(Number.isFinite(p.sparsity) && p.sparsity >= 0 && p.sparsity < 1)) {
    // sort(...)[int(numel * sparsity)] indexes past the end at sparsity 1.
    throw new BadOption(`Unstructured sparsity must lie in [0, 1), got ${p.sparsity}.`);
  }
}

/** Python int() of a non-negative float: truncation. */
function pyInt(x: number): number {
  return Math.trunc(x);
}

function checkMatrix(W: Vec, R: number, C: number, what: string): void {
  if (!Number.isInteger(R) || !Number.isInteger(C) || R <= 0 || C <= 0) throw new Error(`${what}: bad shape ${R}x${C}`);
  if (W.length !== R * C) throw new Error(`${what}: ${W.length} values, expected ${R}x${C}`);
}

function toF64(W: Vec): Float64Array {
  const out = new Float64Array(W.length);
  for (let i = 0; i < W.length; i++) out[i] = W[i];
  return out;
}

/**
 * Indices of the n smallest of `values` (torch.topk(largest=False)); ties go to the lower index.
 * NaN sorts last (as torch treats NaN as the largest value).
 */
export function topkSmallest(values: ArrayLike<number>, n: number): number[] {
  if (n > values.length) throw new BadOption(`topk: cannot select ${n} of ${values.length} values.`);
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => {
    const va = values[a];
    const vb = values[b];
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return va < vb ? -1 : va > vb ? 1 : a - b;
  });
  return idx.slice(0, n);
}

/**
 * The published N:M loop over a (R, C) score matrix: for ii in range(C), at ii % m == 0, prune
 * the n smallest of score[:, ii:ii+m] in each row (the last group may be narrower than m when
 * m does not divide C; fewer than n columns is an error, as torch.topk would raise).
 */
function nmMask(score: Float64Array, R: number, C: number, n: number, m: number): Uint8Array {
  const mask = new Uint8Array(R * C);
  const group = new Float64Array(m);
  for (let ii = 0; ii < C; ii += m) {
    const width = Math.min(m, C - ii);
    if (width < n) throw new BadOption(`N:M ${n}:${m}: the last group of ${width} columns (of ${C}) cannot hold ${n} pruned weights.`);
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < width; j++) group[j] = score[r * C + ii + j];
      for (const j of topkSmallest(group.subarray(0, width), n)) mask[r * C + ii + j] = 1;
    }
  }
  return mask;
}

function applyMask(W: Vec, mask: Uint8Array): Float64Array {
  const out = toF64(W);
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0;
  return out;
}

/** Ascending sort of a copy; NaN last (Float64Array.prototype.sort is numeric, NaN last). */
function sortedCopy(x: Float64Array): Float64Array {
  return Float64Array.from(x).sort();
}

// ---------------------------------------------------------------------------------------------
// Calibration statistics

/** SparseGPT's running Hessian: H = (2 / nsamples) sum over sequences of X^T X, (C, C). */
export interface HessianState {
  cols: number;
  H: Float64Array;
  nsamples: number;
}

export function createHessianState(cols: number): HessianState {
  return { cols, H: new Float64Array(cols * cols), nsamples: 0 };
}

/**
 * SparseGPT.add_batch for an nn.Linear, with inp of shape (batch, T, C) flattened to
 * (batch * T, C) in X:
 *   tmp = batch; H *= nsamples / (nsamples + tmp); nsamples += tmp
 *   inp = sqrt(2 / nsamples) * inp^T;  H += inp inp^T
 * The sequential drivers call it once per calibration sequence (batch = 1), so nsamples counts
 * sequences, not tokens.
 */
export function hessianAccumulate(state: HessianState, X: Vec, T: number, batch = 1): void {
  const C = state.cols;
  const N = batch * T;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`hessianAccumulate: bad batch ${batch}`);
  if (X.length !== N * C) throw new Error(`hessianAccumulate: X has ${X.length} values, expected ${N}x${C}`);
  const H = state.H;
  const tmp = batch;
  const f = state.nsamples / (state.nsamples + tmp);
  for (let i = 0; i < H.length; i++) H[i] *= f;
  state.nsamples += tmp;
  const s = Math.sqrt(2 / state.nsamples);
  const inp = new Float64Array(N * C);
  for (let i = 0; i < inp.length; i++) inp[i] = s * X[i];
  // G = inp^T inp (sum over tokens), then H += G.
  const G = new Float64Array(C * C);
  for (let t = 0; t < N; t++) {
    const o = t * C;
    for (let j = 0; j < C; j++) {
      const a = inp[o + j];
      if (a === 0) continue;
      const g = j * C;
      for (let k = 0; k < C; k++) G[g + k] += a * inp[o + k];
    }
  }
  for (let i = 0; i < H.length; i++) H[i] += G[i];
}

/** Wanda's per-input-feature statistic (WrappedGPT.scaler_row), (C). */
export interface ScalerRowState {
  cols: number;
  scalerRow: Float64Array;
  nsamples: number;
}

export function createScalerRowState(cols: number): ScalerRowState {
  return { cols, scalerRow: new Float64Array(cols), nsamples: 0 };
}

/**
 * WrappedGPT.add_batch for an nn.Linear, inp (batch, T, C) flattened to (batch * T, C):
 *   tmp = batch; scaler_row *= nsamples / (nsamples + tmp); nsamples += tmp
 *   scaler_row += torch.norm(inp^T, p=2, dim=1) ** 2 / nsamples
 * so scaler_row[j] = (1 / nsamples) sum over sequences of ||X[:, j]||^2 = diag(H)[j] / 2.
 */
export function scalerRowAccumulate(state: ScalerRowState, X: Vec, T: number, batch = 1): void {
  const C = state.cols;
  const N = batch * T;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`scalerRowAccumulate: bad batch ${batch}`);
  if (X.length !== N * C) throw new Error(`scalerRowAccumulate: X has ${X.length} values, expected ${N}x${C}`);
  const tmp = batch;
  const f = state.nsamples / (state.nsamples + tmp);
  for (let j = 0; j < C; j++) state.scalerRow[j] *= f;
  state.nsamples += tmp;
  for (let j = 0; j < C; j++) {
    let ss = 0;
    for (let t = 0; t < N; t++) ss += X[t * C + j] * X[t * C + j];
    const norm = Math.sqrt(ss);
    state.scalerRow[j] += norm ** 2 / state.nsamples;
  }
}

// ---------------------------------------------------------------------------------------------
// Magnitude (wanda lib/prune.py prune_magnitude)

export interface MaskedResult {
  /** Pruned copy of W, (R, C). */
  W: Float64Array;
  /** 1 = pruned, (R, C). */
  mask: Uint8Array;
}

/**
 * W_metric = |W|.
 * N:M: per row, for every group of M consecutive columns, prune the N smallest.
 * Unstructured: thresh = sort(W_metric.flatten())[int(numel * sparsity)] over the WHOLE matrix;
 * mask = W_metric <= thresh.
 */
export function magnitudeRef(W: Vec, R: number, C: number, pattern: PrunePattern): MaskedResult {
  checkMatrix(W, R, C, 'magnitudeRef');
  checkPattern(pattern);
  const metric = new Float64Array(R * C);
  for (let i = 0; i < metric.length; i++) metric[i] = Math.abs(W[i]);
  let mask: Uint8Array;
  if (isNM(pattern)) {
    mask = nmMask(metric, R, C, pattern.n, pattern.m);
  } else {
    const thresh = sortedCopy(metric)[pyInt(W.length * pattern.sparsity)];
    mask = new Uint8Array(R * C);
    for (let i = 0; i < metric.length; i++) if (metric[i] <= thresh) mask[i] = 1;
  }
  return { W: applyMask(W, mask), mask };
}

// ---------------------------------------------------------------------------------------------
// Wanda (wanda lib/prune.py prune_wanda, use_variant=False)

/**
 * W_metric = |W| * sqrt(scaler_row) (broadcast over rows).
 * N:M: as magnitude, on W_metric.
 * Unstructured: per output row, torch.sort(W_metric, dim=-1, stable=True) and prune the first
 * int(C * sparsity) indices: exactly that many per row, ties to the lower column index.
 */
export function wandaRef(W: Vec, R: number, C: number, scalerRow: Vec, pattern: PrunePattern): MaskedResult {
  checkMatrix(W, R, C, 'wandaRef');
  checkPattern(pattern);
  if (scalerRow.length !== C) throw new Error(`wandaRef: scaler_row has ${scalerRow.length} values, expected ${C}`);
  const metric = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) metric[r * C + c] = Math.abs(W[r * C + c]) * Math.sqrt(scalerRow[c]);
  let mask: Uint8Array;
  if (isNM(pattern)) {
    mask = nmMask(metric, R, C, pattern.n, pattern.m);
  } else {
    mask = new Uint8Array(R * C);
    const k = pyInt(C * pattern.sparsity);
    for (let r = 0; r < R; r++) {
      for (const c of topkSmallest(metric.subarray(r * C, (r + 1) * C), k)) mask[r * C + c] = 1;
    }
  }
  return { W: applyMask(W, mask), mask };
}

// ---------------------------------------------------------------------------------------------
// SparseGPT (sparsegpt.py SparseGPT.fasterprune)

/** Cholesky lower factor L (A = L L^T) of a symmetric (n, n) matrix; null if not positive definite. */
export function choleskyLower(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
    if (!(s > 0) || !Number.isFinite(s)) return null; // LAPACK potrf: leading minor not positive definite
    const ljj = Math.sqrt(s);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / ljj;
    }
  }
  return L;
}

/** torch.cholesky_inverse(L): (L L^T)^-1 = L^-T L^-1, from the lower factor L. */
export function choleskyInverse(L: Float64Array, n: number): Float64Array {
  // M = L^-1 (lower triangular), by forward substitution column by column.
  const M = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    M[j * n + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k] * M[k * n + j];
      M[i * n + j] = s / L[i * n + i];
    }
  }
  // A^-1[i][j] = sum_k M[k][i] M[k][j], k >= max(i, j): symmetric by construction.
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += M[k * n + i] * M[k * n + j];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

export interface SparseGptOptions {
  /** Columns per lazy-update block (default 128). */
  blocksize?: number;
  /** Dampening as a fraction of mean(diag H) (default 0.01). */
  percdamp?: number;
  /**
   * When a Cholesky factorisation fails: 'throw' (default) a NumericalError, or 'retry' with the
   * dampening multiplied by 10, at most `maxRetries` times.
   */
  onCholeskyFail?: 'throw' | 'retry';
  /** Retries allowed under 'retry' (default 3, i.e. up to 1000x the dampening). */
  maxRetries?: number;
}

export interface SparseGptResult extends MaskedResult {
  /** sum(Losses): sum over rows and columns of (w - q)^2 / d^2 / 2. */
  loss: number;
  /** Losses per output row, (R). */
  rowLoss: Float64Array;
  /** Absolute dampening added to diag(H): percdampUsed * mean(diag H) (after the dead fix). */
  dampUsed: number;
  /** The fraction actually used: percdamp * 10^retries. */
  percdampUsed: number;
  /** Times the dampening was multiplied by 10. */
  retries: number;
  /** Number of input columns with diag(H) == 0 (their weights are zeroed). */
  deadColumns: number;
  /** Hinv = cholesky(cholesky_inverse(cholesky(H + damp I)), upper=True), (C, C). */
  Hinv: Float64Array;
}

/**
 * SparseGPT.fasterprune(sparsity, prunen, prunem, blocksize, percdamp) on W (R, C) with the
 * accumulated H (C, C):
 *   dead = diag(H) == 0; H[dead, dead] = 1; W[:, dead] = 0
 *   damp = percdamp * mean(diag(H)); H += damp I
 *   H = cholesky(H); H = cholesky_inverse(H); Hinv = cholesky(H, upper=True)
 *   for each block [i1, i2) of `blocksize` columns:
 *     W1 = W[:, i1:i2]; Hinv1 = Hinv[i1:i2, i1:i2]
 *     unstructured: tmp = W1^2 / diag(Hinv1)^2; thresh = sort(tmp.flatten())[int(numel * sparsity)];
 *                   mask1 = tmp <= thresh
 *     for i in block: (N:M, i % M == 0: mask the N smallest of W1[:, i:i+M]^2 / diag(Hinv1)[i:i+M]^2
 *                      per row, on the current W1)
 *       q = w with masked entries zeroed; Losses1 = (w - q)^2 / d^2; err1 = (w - q) / d
 *       W1[:, i:] -= err1 Hinv1[i, i:]; Err1[:, i] = err1
 *     W[:, i1:i2] = Q1; Losses += sum(Losses1, 1) / 2; W[:, i2:] -= Err1 Hinv[i1:i2, i2:]
 */
export function sparsegptRef(
  Win: Vec,
  R: number,
  C: number,
  Hin: Vec,
  pattern: PrunePattern,
  opts: SparseGptOptions = {},
): SparseGptResult {
  checkMatrix(Win, R, C, 'sparsegptRef');
  checkPattern(pattern);
  if (Hin.length !== C * C) throw new Error(`sparsegptRef: H has ${Hin.length} values, expected ${C}x${C}`);
  const blocksize = opts.blocksize ?? 128;
  const percdamp = opts.percdamp ?? 0.01;
  const onFail = opts.onCholeskyFail ?? 'throw';
  const maxRetries = opts.maxRetries ?? 3;
  if (!Number.isInteger(blocksize) || blocksize < 1) throw new BadOption(`SparseGPT blocksize must be a positive integer, got ${blocksize}.`);
  if (!(percdamp >= 0 && Number.isFinite(percdamp))) throw new BadOption(`SparseGPT percdamp must be >= 0, got ${percdamp}.`);
  const prunen = isNM(pattern) ? pattern.n : 0;
  const prunem = isNM(pattern) ? pattern.m : 0;
  const sparsity = isNM(pattern) ? 0 : pattern.sparsity;

  const W = toF64(Win);
  const H0 = toF64(Hin);
  let deadColumns = 0;
  for (let j = 0; j < C; j++) {
    if (H0[j * C + j] === 0) {
      deadColumns++;
      H0[j * C + j] = 1;
      for (let r = 0; r < R; r++) W[r * C + j] = 0;
    }
  }

  let meanDiag = 0;
  for (let j = 0; j < C; j++) meanDiag += H0[j * C + j];
  meanDiag /= C;

  let Hinv: Float64Array | null = null;
  let retries = 0;
  let pd = percdamp;
  let damp = 0;
  for (;;) {
    damp = pd * meanDiag;
    const H = Float64Array.from(H0);
    for (let j = 0; j < C; j++) H[j * C + j] += damp;
    const L = choleskyLower(H, C);
    const L2 = L ? choleskyLower(choleskyInverse(L, C), C) : null;
    if (L2) {
      // cholesky(upper=True) = transpose of the lower factor.
      Hinv = new Float64Array(C * C);
      for (let i = 0; i < C; i++) for (let j = i; j < C; j++) Hinv[i * C + j] = L2[j * C + i];
      break;
    }
    const what = `SparseGPT: the damped Hessian (${C}x${C}, damp ${damp.toExponential(3)} = ${pd} x mean diag ${meanDiag.toExponential(3)}) is not positive definite`;
    if (onFail === 'throw') throw new NumericalError(`${what}. Retry with more dampening (10x percdamp).`);
    if (retries >= maxRetries) throw new NumericalError(`${what} even after ${retries} retries with 10x dampening each.`);
    retries++;
    pd *= 10;
  }

  const rowLoss = new Float64Array(R);
  const mask = new Uint8Array(R * C);
  for (let i1 = 0; i1 < C; i1 += blocksize) {
    const i2 = Math.min(i1 + blocksize, C);
    const count = i2 - i1;
    const W1 = new Float64Array(R * count);
    for (let r = 0; r < R; r++) for (let j = 0; j < count; j++) W1[r * count + j] = W[r * C + i1 + j];
    const Q1 = new Float64Array(R * count);
    const Err1 = new Float64Array(R * count);
    const Losses1 = new Float64Array(R * count);
    const dHinv1 = new Float64Array(count);
    for (let j = 0; j < count; j++) dHinv1[j] = Hinv[(i1 + j) * C + i1 + j];
    const mask1 = new Uint8Array(R * count);

    if (prunen === 0) {
      const tmp = new Float64Array(R * count);
      for (let r = 0; r < R; r++) for (let j = 0; j < count; j++) tmp[r * count + j] = W1[r * count + j] ** 2 / dHinv1[j] ** 2;
      const thresh = sortedCopy(tmp)[pyInt(tmp.length * sparsity)];
      for (let i = 0; i < tmp.length; i++) if (tmp[i] <= thresh) mask1[i] = 1;
    }

    const group = new Float64Array(Math.max(prunem, 1));
    for (let i = 0; i < count; i++) {
      const d = dHinv1[i];
      if (prunen !== 0 && i % prunem === 0) {
        const width = Math.min(prunem, count - i);
        if (width < prunen) throw new BadOption(`N:M ${prunen}:${prunem}: a group of ${width} columns at the end of a block cannot hold ${prunen} pruned weights.`);
        for (let r = 0; r < R; r++) {
          for (let j = 0; j < width; j++) group[j] = W1[r * count + i + j] ** 2 / dHinv1[i + j] ** 2;
          for (const j of topkSmallest(group.subarray(0, width), prunen)) mask1[r * count + i + j] = 1;
        }
      }
      const hrow = (i1 + i) * C + i1; // Hinv1[i, :] starts here
      for (let r = 0; r < R; r++) {
        const o = r * count;
        const w = W1[o + i];
        const q = mask1[o + i] ? 0 : w;
        Q1[o + i] = q;
        Losses1[o + i] = (w - q) ** 2 / d ** 2;
        const err1 = (w - q) / d;
        for (let j = i; j < count; j++) W1[o + j] -= err1 * Hinv[hrow + j];
        Err1[o + i] = err1;
      }
    }

    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let j = 0; j < count; j++) {
        W[r * C + i1 + j] = Q1[r * count + j];
        mask[r * C + i1 + j] = mask1[r * count + j];
        s += Losses1[r * count + j];
      }
      rowLoss[r] += s / 2;
    }
    // W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    if (i2 < C) {
      const upd = new Float64Array(C - i2);
      for (let r = 0; r < R; r++) {
        upd.fill(0);
        for (let j = 0; j < count; j++) {
          const e = Err1[r * count + j];
          if (e === 0) continue;
          const h = (i1 + j) * C;
          for (let c = i2; c < C; c++) upd[c - i2] += e * Hinv[h + c];
        }
        for (let c = i2; c < C; c++) W[r * C + c] -= upd[c - i2];
      }
    }
  }

  let loss = 0;
  for (let r = 0; r < R; r++) loss += rowLoss[r];
  return { W, mask, loss, rowLoss, dampUsed: damp, percdampUsed: pd, retries, deadColumns, Hinv };
}

// ---------------------------------------------------------------------------------------------
// Reconstruction error

/**
 * Relative output error of a pruned layer from its Hessian (any positive multiple of sum X^T X):
 *   tr((W - Wp) H (W - Wp)^T) / tr(W H W^T)  =  sum ||X W^T - X Wp^T||^2 / sum ||X W^T||^2.
 */
export function relativeError(Wdense: Vec, Wpruned: Vec, R: number, C: number, H: Vec): number {
  checkMatrix(Wdense, R, C, 'relativeError');
  checkMatrix(Wpruned, R, C, 'relativeError');
  if (H.length !== C * C) throw new Error(`relativeError: H has ${H.length} values, expected ${C}x${C}`);
  const quad = (v: Float64Array): number => {
    let s = 0;
    for (let j = 0; j < C; j++) {
      if (v[j] === 0) continue;
      let hv = 0;
      for (let k = 0; k < C; k++) hv += H[j * C + k] * v[k];
      s += v[j] * hv;
    }
    return s;
  };
  let num = 0;
  let den = 0;
  const d = new Float64Array(C);
  const w = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      w[c] = Wdense[r * C + c];
      d[c] = w[c] - Wpruned[r * C + c];
    }
    num += quad(d);
    den += quad(w);
  }
  return num / den;
}

/** The same from the inputs: sum over sequences of ||X (W - Wp)^T||^2 / ||X W^T||^2, X (T, C). */
export function relativeErrorFromInputs(
  Wdense: Vec,
  Wpruned: Vec,
  R: number,
  C: number,
  inputs: readonly { X: Vec; T: number }[],
): number {
  checkMatrix(Wdense, R, C, 'relativeErrorFromInputs');
  checkMatrix(Wpruned, R, C, 'relativeErrorFromInputs');
  let num = 0;
  let den = 0;
  for (const { X, T } of inputs) {
    if (X.length !== T * C) throw new Error(`relativeErrorFromInputs: X has ${X.length} values, expected ${T}x${C}`);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < R; r++) {
        let y = 0;
        let e = 0;
        for (let c = 0; c < C; c++) {
          const x = X[t * C + c];
          y += x * Wdense[r * C + c];
          e += x * (Wdense[r * C + c] - Wpruned[r * C + c]);
        }
        num += e * e;
        den += y * y;
      }
    }
  }
  return num / den;
}

/** Fraction of exact zeros (wanda's check_sparsity counts W == 0). */
export function zeroFraction(W: Vec): number {
  let z = 0;
  for (let i = 0; i < W.length; i++) if (W[i] === 0) z++;
  return z / W.length;
}
