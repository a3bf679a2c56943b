// Float64 reference of training a whole model: the forward pass over canonical weights (the same
// ModelSpec and tensor names as the GPU model, every family) and its backward, by the chain rule
// through the per-op references of train.ts, for the protocol's loss: the mean next-token
// cross-entropy over the T − 1 predicted tokens of a window. Tests check its forward against the
// HF-following reference (hf-model.ts), its gradients against central finite differences, and the
// GPU gradients against it.
import type { ModelSpec } from '../model/spec';
import {
  activationByName, attentionRef, embeddingRef, layerNormRef, linearRef, rmsNormRef, ropeRef,
} from './kernels';
import {
  activationGradRef, attentionBackwardRef, embeddingBackwardRef, layerNormBackwardRef, linearBackwardRef, nllBackwardRef, rmsNormBackwardRef, squareHeadRef,
} from './train';

export type RefParams = Map<string, Float64Array>;

const add = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]);

class Tape {
  readonly grads: RefParams = new Map();
  constructor(
    readonly s: ModelSpec,
    readonly p: RefParams,
    readonly T: number,
  ) {}

  w(name: string): Float64Array {
    const t = this.p.get(name);
    if (!t) throw new Error(`reference: no parameter ${name}`);
    return t;
  }

  grad(name: string, g: Float64Array): void {
    const have = this.grads.get(name);
    this.grads.set(name, have ? add(have, g) : g);
  }

  linear(name: string, x: Float64Array, weightName = `${name}.weight`): Float64Array {
    const W = this.w(weightName);
    const K = x.length / this.T;
    return linearRef(x, this.T, K, W, W.length / K, this.p.get(`${name}.bias`) ?? null);
  }

  linearBack(name: string, x: Float64Array, dy: Float64Array, weightName = `${name}.weight`): Float64Array {
    const W = this.w(weightName);
    const K = x.length / this.T;
    const g = linearBackwardRef(x, this.T, K, W, W.length / K, dy);
    this.grad(weightName, g.dw);
    if (this.p.has(`${name}.bias`)) this.grad(`${name}.bias`, g.db);
    return g.dx;
  }

  norm(name: string, x: Float64Array): Float64Array {
    const s = this.s;
    return s.norm === 'rms'
      ? rmsNormRef(x, this.T, s.hidden, this.w(`${name}.weight`), s.normEps)
      : layerNormRef(x, this.T, s.hidden, this.w(`${name}.weight`), this.p.get(`${name}.bias`) ?? null, s.normEps);
  }

  normBack(name: string, x: Float64Array, dy: Float64Array): Float64Array {
    const s = this.s;
    if (s.norm === 'rms') {
      const g = rmsNormBackwardRef(x, this.T, s.hidden, this.w(`${name}.weight`), s.normEps, dy);
      this.grad(`${name}.weight`, g.dw);
      return g.dx;
    }
    const g = layerNormBackwardRef(x, this.T, s.hidden, this.w(`${name}.weight`), s.normEps, dy);
    this.grad(`${name}.weight`, g.dw);
    if (this.p.has(`${name}.bias`)) this.grad(`${name}.bias`, g.db);
    return g.dx;
  }

  rope(x: Float64Array, heads: number, inverse = false): Float64Array {
    const s = this.s;
    if (s.rotaryDim === 0) return x;
    const inv = inverse ? s.ropeInvFreq.map((f) => -f) : s.ropeInvFreq;
    return ropeRef(x, this.T, heads, s.headDim, s.rotaryDim, inv, 0);
  }
}

interface AttnSaved { h: Float64Array; q: Float64Array; k: Float64Array; v: Float64Array; o: Float64Array }
interface MlpSaved { h: Float64Array; pre: Float64Array; up: Float64Array | null; z: Float64Array }

function attnForward(tp: Tape, i: number, h: Float64Array): { out: Float64Array; saved: AttnSaved } {
  const s = tp.s, p = `layers.${i}.attn.`;
  const q = tp.rope(tp.linear(p + 'q', h), s.nHeads);
  const k = tp.rope(tp.linear(p + 'k', h), s.nKvHeads);
  const v = tp.linear(p + 'v', h);
  const o = attentionRef(q, k, v, tp.T, tp.T, s.nHeads, s.nKvHeads, s.headDim, s.attnScale[i], 0);
  return { out: tp.linear(p + 'o', o), saved: { h, q, k, v, o } };
}

function attnBackward(tp: Tape, i: number, a: AttnSaved, dOut: Float64Array): Float64Array {
  const s = tp.s, p = `layers.${i}.attn.`;
  const dO = tp.linearBack(p + 'o', a.o, dOut);
  const g = attentionBackwardRef(a.q, a.k, a.v, dO, tp.T, s.nHeads, s.nKvHeads, s.headDim, s.attnScale[i]);
  let dh = tp.linearBack(p + 'q', a.h, tp.rope(g.dq, s.nHeads, true));
  dh = add(dh, tp.linearBack(p + 'k', a.h, tp.rope(g.dk, s.nKvHeads, true)));
  return add(dh, tp.linearBack(p + 'v', a.h, g.dv));
}

function mlpForward(tp: Tape, i: number, h: Float64Array): { out: Float64Array; saved: MlpSaved } {
  const s = tp.s, p = `layers.${i}.mlp.`, act = activationByName(s.act);
  const up = tp.linear(p + 'up', h);
  if (s.gatedMlp) {
    const pre = tp.linear(p + 'gate', h);
    const z = pre.map((g, j) => act(g) * up[j]);
    return { out: tp.linear(p + 'down', z), saved: { h, pre, up, z } };
  }
  const z = up.map(act);
  return { out: tp.linear(p + 'down', z), saved: { h, pre: up, up: null, z } };
}

function mlpBackward(tp: Tape, i: number, m: MlpSaved, dOut: Float64Array): Float64Array {
  const s = tp.s, p = `layers.${i}.mlp.`, act = activationByName(s.act), dact = activationGradRef(s.act);
  const dz = tp.linearBack(p + 'down', m.z, dOut);
  if (m.up) {
    const up = m.up;
    const dg = dz.map((d, j) => d * dact(m.pre[j]) * up[j]);
    const du = dz.map((d, j) => d * act(m.pre[j]));
    return add(tp.linearBack(p + 'gate', m.h, dg), tp.linearBack(p + 'up', m.h, du));
  }
  return tp.linearBack(p + 'up', m.h, dz.map((d, j) => d * dact(m.pre[j])));
}

/**
 * The protocol's loss of one window and, with `grads`, the gradient of every parameter; with a
 * teacher's logits for the window, the loss adds KL(teacher ‖ model) per predicted token; with the
 * teacher's decoder-layer outputs (`squareHead`), it adds SquareHead's Σ_l weight · ‖x_l − t_l‖² /
 * (‖t_l‖² + n·eps) over the layers' outputs x_l (`features`). `hidden`: this model's layer outputs.
 */
export function referenceTrainStep(
  spec: ModelSpec, params: RefParams, ids: readonly number[], grads = true, teacherLogits?: Float64Array,
  squareHead?: { hidden: readonly Float64Array[]; weight: number; eps: number },
): { loss: number; features: number; logits: Float64Array; hidden: Float64Array[]; grads: RefParams } {
  const s = spec, T = ids.length, tp = new Tape(spec, params, T);
  const H = s.hidden, E = s.embedDim;
  // Embeddings.
  const e = embeddingRef(tp.w('embed.tokens'), s.vocabSize, E, ids);
  let x = E !== H ? tp.linear('embed.project_in', e, 'embed.project_in') : e;
  const positions = Array.from({ length: T }, (_, t) => t + s.positionOffset);
  const nPos = s.position === 'learned' ? tp.w('embed.positions').length / H : 0;
  if (nPos) x = add(x, embeddingRef(tp.w('embed.positions'), nPos, H, positions));
  // Decoder layers, saving what the backward reads.
  type Saved = { x: Float64Array; x1?: Float64Array; n1?: Float64Array; n2?: Float64Array; a: AttnSaved; m: MlpSaved; h1?: Float64Array; h2?: Float64Array };
  const saved: Saved[] = [];
  const hidden: Float64Array[] = [];
  for (let i = 0; i < s.nLayers; i++) {
    const p = `layers.${i}.`;
    if (!s.preNorm) {
      // Post-LN: x1 = LN(x + attn(x)); x2 = LN(x1 + mlp(x1)).
      const a = attnForward(tp, i, x);
      const n1 = add(x, a.out);
      const x1 = tp.norm(p + 'attn_norm', n1);
      const m = mlpForward(tp, i, x1);
      const n2 = add(x1, m.out);
      saved.push({ x, x1, n1, n2, a: a.saved, m: m.saved });
      x = tp.norm(p + 'mlp_norm', n2);
    } else if (s.parallelResidual) {
      const h1 = tp.norm(p + 'attn_norm', x);
      const h2 = s.sharedNorm ? h1 : tp.norm(p + 'mlp_norm', x);
      const a = attnForward(tp, i, h1);
      const m = mlpForward(tp, i, h2);
      saved.push({ x, a: a.saved, m: m.saved });
      x = add(add(x, a.out), m.out);
    } else {
      const a = attnForward(tp, i, tp.norm(p + 'attn_norm', x));
      const x1 = add(x, a.out);
      const m = mlpForward(tp, i, tp.norm(p + 'mlp_norm', x1));
      saved.push({ x, x1, a: a.saved, m: m.saved });
      x = add(x1, m.out);
    }
    hidden.push(x);
  }
  // SquareHead: each layer's feature loss and the gradient it adds at that layer's output.
  const sq = squareHead ? hidden.map((h, i) => squareHeadRef(h, squareHead.hidden[i], squareHead.weight, squareHead.eps)) : [];
  const features = sq.reduce((a, f) => a + f.loss, 0);
  // Head.
  const xf = x;
  const hn = s.finalNorm ? tp.norm('final_norm', xf) : xf;
  const he = E !== H ? tp.linear('head.project_out', hn, 'head.project_out') : hn;
  const headW = s.tiedEmbeddings ? 'embed.tokens' : 'head.weight';
  const logits = linearRef(he, T, E, tp.w(headW), s.vocabSize, params.get('head.bias') ?? null);
  const targets = Array.from({ length: T }, (_, t) => (t + 1 < T ? ids[t + 1] : -1));
  const head = nllBackwardRef(logits, targets, 1 / (T - 1), teacherLogits);
  const loss = head.loss + features;
  if (!grads) return { loss, features, logits, hidden, grads: tp.grads };

  // Backward.
  let d = tp.linearBack('head', he, head.dlogits, headW);
  if (E !== H) d = tp.linearBack('head.project_out', hn, d, 'head.project_out');
  if (s.finalNorm) d = tp.normBack('final_norm', xf, d);
  for (let i = s.nLayers - 1; i >= 0; i--) {
    const p = `layers.${i}.`, sv = saved[i];
    if (sq.length) d = add(d, sq[i].ds);
    if (!s.preNorm) {
      const dn2 = tp.normBack(p + 'mlp_norm', sv.n2!, d);
      const dx1 = add(dn2, mlpBackward(tp, i, sv.m, dn2));
      const dn1 = tp.normBack(p + 'attn_norm', sv.n1!, dx1);
      d = add(dn1, attnBackward(tp, i, sv.a, dn1));
    } else if (s.parallelResidual) {
      const dh1 = attnBackward(tp, i, sv.a, d);
      const dh2 = mlpBackward(tp, i, sv.m, d);
      if (s.sharedNorm) d = add(d, tp.normBack(p + 'attn_norm', sv.x, add(dh1, dh2)));
      else d = add(add(d, tp.normBack(p + 'attn_norm', sv.x, dh1)), tp.normBack(p + 'mlp_norm', sv.x, dh2));
    } else {
      const dx1 = add(d, tp.normBack(p + 'mlp_norm', sv.x1!, mlpBackward(tp, i, sv.m, d)));
      d = add(dx1, tp.normBack(p + 'attn_norm', sv.x, attnBackward(tp, i, sv.a, dx1)));
    }
  }
  if (nPos) tp.grad('embed.positions', embeddingBackwardRef(positions, d, nPos, H));
  if (E !== H) d = tp.linearBack('embed.project_in', e, d, 'embed.project_in');
  tp.grad('embed.tokens', embeddingBackwardRef(ids, d, s.vocabSize, E));
  return { loss, features, logits, hidden, grads: tp.grads };
}
