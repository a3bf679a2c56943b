// Shared pieces of the reader fuzzers: seeded byte and JSON mutations (fast-check arbitraries),
// a FileSource that records what the reader asks for (to catch unbounded reads), and the check
// that a rejection is one of the documented errors with a usable message.
//
// Runs: the default is a short run (the totals over test/fuzz/*.test.ts exceed 100,000 inputs);
// FUZZ_SCALE=20 multiplies every run count for a long run, FUZZ_SEED changes the seed.
import fc from 'fast-check';
import { expect } from 'vitest';
import { BadModelFile, BadTokenizer, MissingFile, UnsupportedArchitecture } from '../../src/core/errors';
import type { FileSource } from '../../src/core/io/file-source';

export const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
export const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
export const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

/** The errors a reader may reject an input with (README: "Bad input"). */
export const DOCUMENTED = [BadModelFile, MissingFile, UnsupportedArchitecture, BadTokenizer];

/** Longest time one input may take before it counts as a hang. */
export const HANG_MS = 2000;

export function expectDocumented(e: unknown, input: () => string): void {
  if (!DOCUMENTED.some((C) => e instanceof C)) {
    throw new Error(`undocumented rejection ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\ninput: ${input()}`, { cause: e });
  }
  const m = (e as Error).message;
  expect(m.length, input()).toBeGreaterThan(10);
  // Messages built from missing or mistyped fields would print these ("NaN" is a real value a
  // message may name: "holds 2 NaN or Inf values").
  // (unless quoted: the input itself may say "NaN"; @huggingface/tokenizers' own messages, which
  // we wrap, may print undefined for a missing field).
  if (!/^The tokenizer (could not be built|failed to)/.test(m)) expect(m, input()).not.toMatch(/(?<!")\bundefined\b(?!")|\[object Object\]/);
}

/** A FileSource over bytes that records the largest read and the total bytes read. */
export function recordingSource(bytes: Uint8Array, name: string): FileSource & { maxRead: number; totalRead: number } {
  const src = {
    name,
    size: bytes.byteLength,
    maxRead: 0,
    totalRead: 0,
    slice: async (start: number, end: number) => {
      const s = Math.max(0, Math.min(start, bytes.byteLength));
      const e = Math.max(s, Math.min(end, bytes.byteLength));
      src.maxRead = Math.max(src.maxRead, end - start);
      src.totalRead += e - s;
      return Uint8Array.prototype.slice.call(bytes, s, e).buffer as ArrayBuffer;
    },
  };
  return src;
}

/** Reads must stay within the file: never ask for more than it has, nor read it many times over. */
export function expectBoundedReads(src: { size: number; maxRead: number; totalRead: number; name: string }): void {
  expect(src.maxRead, `${src.name}: largest read`).toBeLessThanOrEqual(src.size);
  expect(src.totalRead, `${src.name}: total read`).toBeLessThanOrEqual(3 * src.size + 64);
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x22, 0x5b, 0x7b, 0x7d, 0x2c, 0x3a];

type ByteOp = { op: number; pos: number; len: number; val: number };

/** Byte strings joined (a plain copy: Buffer.concat over views of one buffer). */
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

function applyByteOps(seed: Uint8Array, ops: ByteOp[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(seed);
  for (const { op, pos, len, val } of ops) {
    const p = b.length ? pos % (b.length + 1) : 0;
    switch (op) {
      case 0: // flip a bit
        if (p < b.length) b[p] ^= 1 << (val & 7);
        break;
      case 1: // interesting byte
        if (p < b.length) b[p] = INTERESTING_BYTES[val % INTERESTING_BYTES.length];
        break;
      case 2: // truncate
        b = b.slice(0, p);
        break;
      case 3: // delete a range
        b = concat(b.subarray(0, p), b.subarray(Math.min(b.length, p + len)));
        break;
      case 4: // insert random-ish bytes
        b = concat(b.subarray(0, p), Uint8Array.from({ length: len % 17 }, (_, i) => (val * 31 + i * 7) & 0xff), b.subarray(p));
        break;
      case 5: // duplicate a range
        b = concat(b.subarray(0, p), b.subarray(p, p + len), b.subarray(p));
        break;
      default: // overwrite the 8-byte length prefix (safetensors) with an extreme value
        if (b.length >= 8) {
          const v = [0, 1, 2, 7, 8, b.length - 8, b.length, 2 ** 32, 2 ** 53 - 1, 100 * 2 ** 20 + 1][val % 10];
          new DataView(b.buffer).setUint32(0, v % 2 ** 32, true);
          new DataView(b.buffer).setUint32(4, Math.floor(v / 2 ** 32), true);
        }
    }
  }
  return b;
}

/** Up to `maxOps` byte-level mutations of `seed`. */
export function mutatedBytes(seed: Uint8Array, maxOps = 6): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.record({ op: fc.integer({ min: 0, max: 6 }), pos: fc.nat(), len: fc.integer({ min: 0, max: 64 }), val: fc.nat(255) }), { minLength: 1, maxLength: maxOps })
    .map((ops) => applyByteOps(seed, ops));
}

/** Values that break readers: wrong types, extremes, deep nesting. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 1e308, -1e308, '', '0', 'NaN', null, true, false, [], {}, [0], { a: 1 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true }),
);

type JsonOp = { path: number[]; kind: number; value: unknown; key: string };

/** Mutate a JSON document structurally: replace, delete or add at a pseudo-random path. */
function applyJsonOps(doc: unknown, ops: JsonOp[]): unknown {
  const root = structuredClone(doc);
  for (const { path, kind, value: shared, key } of ops) {
    // The arbitrary's constants are shared objects: copy, or a later op could make a cycle.
    const value = structuredClone(shared);
    let parent: unknown = null;
    let k: string | number | null = null;
    let node: unknown = root;
    for (const step of path) {
      if (Array.isArray(node) && node.length) {
        parent = node;
        k = step % node.length;
        node = node[k];
      } else if (node && typeof node === 'object' && Object.keys(node).length) {
        const keys = Object.keys(node);
        parent = node;
        k = keys[step % keys.length];
        node = (node as Record<string, unknown>)[k];
      } else break;
    }
    if (parent === null || k === null) continue;
    const p = parent as Record<string | number, unknown>;
    if (kind === 0) p[k] = value;
    else if (kind === 1) {
      if (Array.isArray(p)) p.splice(k as number, 1);
      else delete p[k];
    } else if (node && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, unknown>)[key] = value;
    else p[k] = value;
  }
  return root;
}

/** Up to `maxOps` structural mutations of a JSON document, serialised (sometimes text-mangled). */
export function mutatedJson(doc: unknown, maxOps = 4): fc.Arbitrary<string> {
  const op = fc.record({
    path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    kind: fc.integer({ min: 0, max: 2 }),
    value: hostileJson,
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('model_type', 'architectures', 'hidden_size', '__proto__', 'constructor')),
  });
  const structural = fc.array(op, { minLength: 1, maxLength: maxOps }).map((ops) => JSON.stringify(applyJsonOps(doc, ops)));
  const textual = mutatedBytes(new TextEncoder().encode(JSON.stringify(doc)), 3).map((b) => new TextDecoder().decode(b));
  return fc.oneof({ arbitrary: structural, weight: 4 }, { arbitrary: textual, weight: 1 });
}

/** Run `fn` on `input`; it must resolve, or reject with a documented error, within HANG_MS. */
export async function expectSafe(fn: () => Promise<unknown>, describe: () => string): Promise<'ok' | 'rejected'> {
  const t0 = performance.now();
  let outcome: 'ok' | 'rejected' = 'ok';
  try {
    await fn();
  } catch (e) {
    expectDocumented(e, describe);
    outcome = 'rejected';
  }
  const ms = performance.now() - t0;
  if (ms > HANG_MS) throw new Error(`took ${ms.toFixed(0)} ms (> ${HANG_MS}): ${describe()}`);
  return outcome;
}
