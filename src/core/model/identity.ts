// A model's fingerprint: the same model gives the same one whichever way it was opened (demo,
// dropped folder, kept copy, Hub download), since file names are left out. The page keys its
// history by it; kept copies record it.
import type { ModelSummary } from '../types';

/** cyrb53, a fast 53-bit string hash: it tells models apart, it is not meant to resist attacks. */
function hash53(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

export function modelFingerprint(m: ModelSummary): string {
  const shape = [
    m.family,
    m.architecture,
    m.parameters,
    m.bytes,
    m.layers,
    m.hidden,
    m.heads,
    m.kvHeads,
    m.ffn,
    m.vocabSize,
    m.dtype,
    m.tensors.map((t) => [t.name, t.dtype, t.shape]),
    // A folder the studio exported after pruning has the same shapes but other weights.
    m.prunedBy ? [m.prunedBy.method, m.prunedBy.sparsity, m.prunedBy.target ?? null] : null,
  ];
  return hash53(JSON.stringify(shape));
}
