// The one shape of a job that runs on the engine (a sweep, a contextual run, the coming training
// runs), for the worker, the CLI and the tests alike:
//
//   const result = await runX(engine, input, { onProgress, signal, ...callbacks })
//
//   engine   the loaded Engine (or the part of it the job needs, as an interface);
//   input    plain data: options and texts, exactly what the worker's request carries;
//   progress events through onProgress; a job of several stages numbers them (point / points);
//   cancellation through the AbortSignal: the job throws Cancelled and says what the weights are;
//   result   plain data, sent to the page as it is.
//
// Resumable state, where a job has one, is plain data too: a sweep reports each measured point as
// it lands (onPoint), and a sweep that stopped (reload, crash, lost device, cancel) resumes as a
// sweep of the points not yet measured (the page's sweepRemainder).
import type { ProgressFn } from '../types';

export interface JobHooks {
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}
