// Dense linear algebra in float64 on the CPU, for what is cubic in a layer's width: SparseGPT's
// factorisation, and SparseLLM's least-squares refits and auxiliary updates.
//
// The factorisation step of SparseGPT: the upper Cholesky factor U of H⁻¹
// (H⁻¹ = UᵀU), which the published code gets as cholesky(cholesky_inverse(cholesky(H)), upper).
// We get the same U (the Cholesky factor is unique) with one factorisation and one triangular
// inverse, ~2.5× fewer flops:  with J the reversal permutation and JHJ = L'L'ᵀ,
//   U = J L'⁻¹ J   (upper), since UᵀU = J L'⁻ᵀ L'⁻¹ J = J (JHJ)⁻¹ J = H⁻¹.
// float64 keeps it stable where f32 would need more dampening; cost is (2/3)·C³ flops.
import { NumericalError } from '../errors';

/** In-place lower Cholesky factor of the symmetric positive definite a (n × n, row-major). */
export function choleskyLower(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0) || !Number.isFinite(d)) {
      throw new NumericalError(`the matrix is not positive definite (pivot ${j} of ${n} is ${d.toExponential(3)})`);
    }
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
}

/**
 * In-place inverse of a lower triangular l (n × n). Row-oriented (row i of L⁻¹ is a combination
 * of the rows above it), so every inner loop runs over contiguous memory.
 */
export function invertLower(l: Float64Array, n: number): void {
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    r.fill(0, 0, i);
    for (let k = 0; k < i; k++) {
      const lik = l[ri + k];
      if (lik === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) r[j] += lik * l[rk + j];
    }
    const inv = 1 / l[ri + i];
    for (let j = 0; j < i; j++) l[ri + j] = -r[j] * inv;
    l[ri + i] = inv;
  }
}

/** U (upper, n × n) with H⁻¹ = UᵀU. Throws NumericalError if h is not positive definite. */
export function inverseCholeskyUpper(h: Float64Array, n: number): Float64Array {
  // a = J H J (reverse rows and columns).
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
  choleskyLower(a, n);
  invertLower(a, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
  return u;
}

/** Largest relative eigenvalue a least-squares fallback treats as zero (the Gram matrices are f32 sums). */
const FALLBACK_RCOND = 1e-6;

/** Symmetric eigendecomposition by cyclic Jacobi rotations (only for a singular Gram matrix). */
export function jacobiEigen(Ain: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(Ain);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  const rot = (M: Float64Array, i: number, j: number, c: number, s: number, stride: number, cols: boolean) => {
    for (let k = 0; k < n; k++) {
      const a = cols ? k * stride + i : i * stride + k;
      const b = cols ? k * stride + j : j * stride + k;
      const x = M[a];
      const y = M[b];
      M[a] = c * x - s * y;
      M[b] = s * x + c * y;
    }
  };
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += A[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += A[i * n + j] ** 2;
    }
    if (off === 0 || off <= 1e-30 * diag) break;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const aij = A[i * n + j];
        if (aij === 0) continue;
        const theta = (A[j * n + j] - A[i * n + i]) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        rot(A, i, j, c, s, n, true);
        rot(A, i, j, c, s, n, false);
        rot(V, i, j, c, s, n, true);
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i];
  return { values, vectors: V };
}

/**
 * W (M, K) = B G⁺ for a Gram matrix G (K, K) (any positive multiple of AᵀA) and B (M, K) (the
 * same multiple of TargetᵀA): the minimum-norm least-squares weights, i.e. the authors'
 * Target·pinv(A). Inputs with G_ii = 0 get zero weights (as the pseudo-inverse gives); the rest
 * is solved by Cholesky in float64, or, if that part of G is singular, by its eigendecomposition.
 */
export function solveLstsq(B: ArrayLike<number>, G: ArrayLike<number>, M: number, K: number): { W: Float64Array; note?: string } {
  const live: number[] = [];
  for (let i = 0; i < K; i++) if (G[i * K + i] !== 0) live.push(i);
  const k = live.length;
  const W = new Float64Array(M * K);
  if (k === 0) return { W, note: 'all inputs are zero' };
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) g[a * k + b] = G[live[a] * K + live[b]];
  let note: string | undefined;
  // Ginv_rows(b) solves g x = b for one right-hand side.
  let solve: (rhs: Float64Array, out: Float64Array) => void;
  try {
    const L = Float64Array.from(g);
    choleskyLower(L, k);
    solve = (rhs, out) => {
      for (let i = 0; i < k; i++) {
        let s = rhs[i];
        for (let j = 0; j < i; j++) s -= L[i * k + j] * out[j];
        out[i] = s / L[i * k + i];
      }
      for (let i = k - 1; i >= 0; i--) {
        let s = out[i];
        for (let j = i + 1; j < k; j++) s -= L[j * k + i] * out[j];
        out[i] = s / L[i * k + i];
      }
    };
  } catch (e) {
    if (!(e instanceof NumericalError)) throw e;
    const { values, vectors } = jacobiEigen(g, k);
    let max = 0;
    for (const v of values) max = Math.max(max, Math.abs(v));
    const pinv = new Float64Array(k * k);
    let rank = 0;
    for (let c = 0; c < k; c++) {
      if (!(values[c] > FALLBACK_RCOND * max)) continue;
      rank++;
      const inv = 1 / values[c];
      for (let i = 0; i < k; i++) {
        const a = vectors[i * k + c] * inv;
        for (let j = 0; j < k; j++) pinv[i * k + j] += a * vectors[j * k + c];
      }
    }
    note = `least squares on a rank-deficient Gram matrix (rank ${rank} of ${k}): pseudo-inverse by eigendecomposition`;
    solve = (rhs, out) => {
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += pinv[i * k + j] * rhs[j];
        out[i] = s;
      }
    };
  }
  const rhs = new Float64Array(k);
  const x = new Float64Array(k);
  for (let r = 0; r < M; r++) {
    for (let a = 0; a < k; a++) rhs[a] = B[r * K + live[a]];
    solve(rhs, x);
    for (let a = 0; a < k; a++) W[r * K + live[a]] = x[a];
  }
  return { W, note };
}

/** A⁻¹ of a symmetric positive definite A (n, n) in float64: L⁻ᵀ L⁻¹ with A = L Lᵀ. */
export function spdInverse(A: Float64Array, n: number): Float64Array {
  const L = Float64Array.from(A);
  choleskyLower(L, n);
  invertLower(L, n); // L ← L⁻¹ (lower)
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += L[k * n + i] * L[k * n + j];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}
