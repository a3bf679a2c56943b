// Named errors a user can meet. Each message says what was expected, what was found, and what to
// do. The CLI prints `message` and exits non-zero; the page shows it where the user acted. Errors
// cross the worker boundary as { name, message } and are rebuilt with `errorFromWire`.

export abstract class PruneStudioError extends Error {
  // Each subclass sets `name` to a string literal: minifiers rename classes, and the name is
  // what crosses the worker boundary (errorFromWire) and what the UI shows.
  constructor(message: string) {
    super(message);
  }
}

/** A model file (safetensors, index, config) is malformed, truncated or hostile. */
export class BadModelFile extends PruneStudioError {
  override readonly name = 'BadModelFile';
}

/** A required file is missing from the model folder (config.json, weights, tokenizer). */
export class MissingFile extends PruneStudioError {
  override readonly name = 'MissingFile';
}

/** config.json names an architecture (or a variant of one) that the engine does not implement. */
export class UnsupportedArchitecture extends PruneStudioError {
  override readonly name = 'UnsupportedArchitecture';
}

/** Tokenizer files are missing or cannot be parsed. */
export class BadTokenizer extends PruneStudioError {
  override readonly name = 'BadTokenizer';
}

/** Evaluation or calibration text is unusable (binary, too short for one window). */
export class BadText extends PruneStudioError {
  override readonly name = 'BadText';
}

/** A user option is out of range (seqlen, sparsity, ...). */
export class BadOption extends PruneStudioError {
  override readonly name = 'BadOption';
}

/** Something needs more GPU memory or a larger binding than the adapter offers. */
export class TooLargeForDevice extends PruneStudioError {
  override readonly name = 'TooLargeForDevice';
}

/** No WebGPU, or no adapter could be found. */
export class NoWebGPU extends PruneStudioError {
  override readonly name = 'NoWebGPU';
}

/** The GPU device was lost (driver reset, tab backgrounded too long, destroy()). */
export class DeviceLost extends PruneStudioError {
  override readonly name = 'DeviceLost';
}

/** A GPU validation or out-of-memory error surfaced through an error scope. */
export class GpuError extends PruneStudioError {
  override readonly name = 'GpuError';
}

/** The user paused a training run: its checkpoint is saved and it resumes from there. */
export class Paused extends PruneStudioError {
  override readonly name = 'Paused';
}

/** The user cancelled a run. */
export class Cancelled extends PruneStudioError {
  override readonly name = 'Cancelled';
  constructor(message = 'Cancelled by the user.') {
    super(message);
  }
}

/** Numbers went bad (NaN/Inf) or a matrix was not positive definite. */
export class NumericalError extends PruneStudioError {
  override readonly name = 'NumericalError';
}

/** Browser storage (IndexedDB, the Origin Private File System) is unavailable, unsupported or full. */
export class StorageError extends PruneStudioError {
  override readonly name = 'StorageError';
}

/** The Hugging Face Hub (or the server given as one) refused a request: not found, gated, bad token, … */
export class HubError extends PruneStudioError {
  override readonly name = 'HubError';
  /** A server error (5xx, 429) that may pass: a download retries it. */
  transient = false;
}

/** A server could not be reached at all (offline, DNS, refused connection, blocked by the page's policy). */
export class NetworkError extends PruneStudioError {
  override readonly name = 'NetworkError';
}

const classes = {
  BadModelFile,
  MissingFile,
  UnsupportedArchitecture,
  BadTokenizer,
  BadText,
  BadOption,
  TooLargeForDevice,
  NoWebGPU,
  DeviceLost,
  GpuError,
  Cancelled,
  Paused,
  NumericalError,
  StorageError,
  HubError,
  NetworkError,
} as const;

export interface WireError {
  name: string;
  message: string;
}

export function errorToWire(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

export function errorFromWire(w: WireError): Error {
  const C = (classes as Record<string, new (m: string) => Error>)[w.name];
  return C ? new C(w.message) : Object.assign(new Error(w.message), { name: w.name });
}

/** Throws Cancelled when the signal has fired; call between GPU submissions. */
export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new Cancelled();
}
