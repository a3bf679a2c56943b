// Sparse weights for inference: formats (CPU encode/decode, byte sizes), their GPU layouts and the
// GEMV / GEMM kernels that consume them. See each module's header:
//   formats.ts  dense, bitmask (compressed-tensors sparse-bitmask), 2:4, csr (+ sell, the measured
//               alternative row format); encode / decode / formatBytes / estimateBytes
//   gpu.ts      GPU layouts, uploadSparse (paged into row blocks like GpuTensor), destroySparse
//   kernels.ts  spmv (decode), spmm (prefill), sparseLinear (picks one): y (+)= x Wᵀ + b
//
// Typical use (forward pass):
//   const m = encode('bitmask', W, N, K, 'f16');          // CPU, from a pruned dense (N, K) weight
//   const g = uploadSparse(ctx, m, 'layers.0.mlp.fc1');    // GPU buffers
//   sparseLinear(ctx, x, g, bias, y, T, { accumulate });   // records the dispatches
//   formatBytes(m);                                        // { disk, gpu } for the UI
//   destroySparse(ctx, g);
// Float64 references: src/core/reference/sparse.ts. Benchmark: bench/spmm.ts.
export * from '../model/sparse-formats';
export * from './gpu';
export * from './kernels';
export { prune24, pruneRandom, randomDense, sparsityOf } from './synth';
