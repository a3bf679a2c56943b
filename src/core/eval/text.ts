// Text inputs (evaluation and calibration files): decode as UTF-8 and refuse what is not text.
import { BadText } from '../errors';

/** Decode bytes of a user text file; throws BadText for binary or non-UTF-8 content. */
export function decodeTextFile(bytes: ArrayBuffer | Uint8Array, name: string): string {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length === 0) throw new BadText(`${name} is empty.`);
  const probe = u8.subarray(0, Math.min(u8.length, 1 << 16));
  let nul = 0;
  for (const b of probe) if (b === 0) nul++;
  if (nul > 0) {
    throw new BadText(`${name} is not a text file (it contains NUL bytes, as binary files do). Give a UTF-8 text file.`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(u8);
  } catch {
    throw new BadText(`${name} is not valid UTF-8 text. Save it as UTF-8 and try again.`);
  }
  let ctrl = 0;
  for (let i = 0; i < Math.min(text.length, 1 << 16); i++) {
    const c = text.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) ctrl++;
  }
  if (ctrl > 0.01 * Math.min(text.length, 1 << 16)) throw new BadText(`${name} looks binary (many control characters); give a plain text file.`);
  return text;
}
