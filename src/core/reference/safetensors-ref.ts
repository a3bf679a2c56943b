// Minimal, independent safetensors parser for the reference path and tests: whole file in memory,
// F32 / F16 / BF16 decoded to Float32Array (exact widening), other dtypes skipped. It deliberately
// shares no code with the engine's reader (src/core/model/safetensors.ts) or with dtypes.ts.

import type { RefTensor } from './hf-model.ts';

export interface ParsedSafetensors {
  tensors: Map<string, RefTensor>;
  metadata: Record<string, string> | null;
  /** Byte offset of the data section (8 + header length). */
  dataStart: number;
  /** Names of tensors whose dtype is not F32/F16/BF16 (left out of `tensors`). */
  skipped: string[];
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * Math.pow(2, -24);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * Math.pow(2, exp - 15);
}

export function parseSafetensorsRef(bytes: Uint8Array): ParsedSafetensors {
  if (bytes.byteLength < 8) throw new Error('safetensors: file shorter than 8 bytes');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.byteLength) throw new Error(`safetensors: header length ${n} exceeds file size ${bytes.byteLength}`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const dataStart = 8 + n;
  const tensors = new Map<string, RefTensor>();
  const skipped: string[] = [];
  let metadata: Record<string, string> | null = null;
  const tmp = new DataView(new ArrayBuffer(4));
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const info = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [b, e] = info.data_offsets;
    const count = info.shape.reduce((a, c) => a * c, 1);
    const start = dataStart + b;
    if (dataStart + e > bytes.byteLength) throw new Error(`safetensors: ${name} runs past the end of the file`);
    const data = new Float32Array(count);
    if (info.dtype === 'F32') {
      if (e - b !== count * 4) throw new Error(`safetensors: ${name} byte range does not match its shape`);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(start + 4 * i, true);
    } else if (info.dtype === 'F16' || info.dtype === 'BF16') {
      if (e - b !== count * 2) throw new Error(`safetensors: ${name} byte range does not match its shape`);
      for (let i = 0; i < count; i++) {
        const h = dv.getUint16(start + 2 * i, true);
        if (info.dtype === 'F16') {
          data[i] = halfToFloat(h);
        } else {
          // bfloat16 is the top half of an IEEE single.
          tmp.setUint32(0, h << 16);
          data[i] = tmp.getFloat32(0);
        }
      }
    } else {
      skipped.push(name);
      continue;
    }
    tensors.set(name, { shape: info.shape.slice(), data });
  }
  return { tensors, metadata, dataStart, skipped };
}
