// The uniform of the factorisation kernels (cholesky_*.wgsl, trtri_*.wgsl; host: gpu/ops-factor.ts).
struct Params {
  n: u32,     // the matrix is (n, n), row-major
  k0: u32,    // first row of the block column (Cholesky); the block diagonal's distance d (trtri_offdiag)
  kb: u32,    // rows in the block (Cholesky)
  stage: u32, // trtri_offdiag's stage (0: the sums, 1: the product with the diagonal block's inverse)
}

@group(0) @binding(0) var<uniform> p: Params;
