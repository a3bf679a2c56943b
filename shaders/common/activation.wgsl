// The MLP activations, forward and derivative, shared by activation.wgsl and
// activation_backward.wgsl, with their parameters (n elements, mode, gated):
//   mode 0 gelu_new (tanh approximation, GPT-2 / Phi), 1 gelu (exact, erf; NeoX),
//   mode 2 relu (OPT), 3 silu (Llama / Qwen2 gate, with gated = 1: silu(gate) * up).

struct Params {
  n: u32,
  mode: u32,
  gated: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// erf with |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26), enough for f32.
fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(-y, y, x >= 0.0);
}

// (act(x), act'(x)) for the mode:
//   gelu_new: ½x(1 + tanh z), z = √(2/π)(x + 0.044715 x³); ' = ½(1 + tanh z) + ½x(1 − tanh² z)·√(2/π)(1 + 3·0.044715 x²)
//   gelu: xΦ(x); ' = Φ(x) + x φ(x);   relu: max(x, 0); ' = [x > 0];   silu: xσ(x); ' = σ(x)(1 + x(1 − σ(x)))
fn act_and_grad(x: f32, mode: u32) -> vec2f {
  switch (mode) {
    case 0u: {
      // tanh saturates to ±1 in f32 beyond |z| = 10; clamping avoids exp overflow in tanh.
      let k = 0.7978845608028654;
      let th = tanh(clamp(k * (x + 0.044715 * x * x * x), -10.0, 10.0));
      return vec2f(0.5 * x * (1.0 + th), 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 0.134145 * x * x));
    }
    case 1u: {
      let cdf = 0.5 * (1.0 + erf_approx(x * 0.7071067811865476));
      return vec2f(x * cdf, cdf + x * 0.3989422804014327 * exp(-0.5 * x * x));
    }
    case 2u: { return vec2f(max(x, 0.0), select(0.0, 1.0, x > 0.0)); }
    default: {
      let s = 1.0 / (1.0 + exp(-x));
      return vec2f(x * s, s * (1.0 + x * (1.0 - s)));
    }
  }
}
