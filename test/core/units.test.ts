// Sizes as users type them (--gpu-memory, the Train area's budget).
import { expect, test } from 'vitest';
import { parseBytes } from '../../src/core/units';

test.each([
  ['8GB', 8e9], ['8 GiB', 8 * 2 ** 30], ['512MiB', 512 * 2 ** 20], ['1.5e9', 1.5e9], ['640k', 640e3], ['2tb', 2e12], ['4096', 4096], ['100 B', 100],
])('%s is %d bytes', (text, bytes) => {
  expect(parseBytes(text)).toBe(bytes);
});

test.each(['', 'lots', '8 GX', '-1GB', 'GB'])('"%s" is not a size', (text) => {
  expect(parseBytes(text)).toBeNaN();
});
