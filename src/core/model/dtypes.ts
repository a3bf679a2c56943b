// Storage dtypes of weight files and their conversion to f32 (all compute is f32: SwiftShader and
// many adapters have no shader-f16). Conversions run on the CPU, one tensor at a time.

export type DType = 'F32' | 'F16' | 'BF16';

export const DTYPE_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };

/** Every safetensors dtype name, so an unknown one can be told apart from a known-but-unsupported one. */
export const SAFETENSORS_DTYPES = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32',
  'F64', 'I64', 'U64',
] as const;

export function isSupportedDType(d: string): d is DType {
  return d === 'F32' || d === 'F16' || d === 'BF16';
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** IEEE half (bits) -> float. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float -> IEEE half bits, round to nearest even (as torch's .half()). */
export function f32ToF16(x: number): number {
  f32buf[0] = x;
  const b = u32buf[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function bf16ToF32(h: number): number {
  u32buf[0] = h << 16;
  return f32buf[0];
}

/** float -> bfloat16 bits, round to nearest even. */
export function f32ToBf16(x: number): number {
  f32buf[0] = x;
  const b = u32buf[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // quiet NaN
  const r = b + 0x7fff + ((b >>> 16) & 1);
  return (r >>> 16) & 0xffff;
}

/** Decode little-endian tensor bytes to f32. `bytes` must hold exactly n elements. */
export function decodeToF32(bytes: ArrayBuffer, dtype: DType): Float32Array {
  if (dtype === 'F32') {
    // Copy: the source may be unaligned or shared with other tensors.
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(new Uint8Array(bytes));
    return out;
  }
  const n = bytes.byteLength / 2;
  const src = new Uint16Array(n);
  new Uint8Array(src.buffer).set(new Uint8Array(bytes));
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    // Table lookup: 64K entries, built once, makes large f16 models load at memcpy-like speed.
    const t = f16Table();
    for (let i = 0; i < n; i++) out[i] = t[src[i]];
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = src[i] << 16;
  }
  return out;
}

let table: Float32Array | null = null;
function f16Table(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = f16ToF32(i);
  }
  return table;
}

/** Encode f32 values to little-endian bytes of the given dtype. */
export function encodeFromF32(data: Float32Array, dtype: DType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint16Array(data.length);
  const f = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < data.length; i++) out[i] = f(data[i]);
  return new Uint8Array(out.buffer);
}
