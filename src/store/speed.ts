// "Speed & size" of the current pruned weights, measured by the worker on this GPU when asked. The
// measurement runs as a job in the job slot (store/job.ts); this store keeps its last report.
// Errors (and a cancellation) go to the errors store, area "speed".
import { create } from 'zustand';
import { BadOption, Cancelled } from '../core/errors';
import type { SpeedReport, SpeedRow } from '../core/sparse/speed';
import { useEngine } from './engine-status';
import { useErrors } from './errors';
import { weightsLabel } from './eval-settings';
import { busyReason, cancelJob, cancelledAfter, currentEngineBusy, elapsedSeconds, engineBusyBlocker, jobRunning, startJob, type EngineBusy, type JobHandle } from './job';
import { usePrune } from './prune';

export interface SpeedResult {
  report: SpeedReport;
  /** The adapter it was measured on, e.g. "SwiftShader (software)". */
  adapter: string;
  /** weightsLabel() of the weights measured. */
  weights: string;
  seconds: number;
}

interface SpeedState {
  result: SpeedResult | null;
  set(patch: Partial<Omit<SpeedState, 'set'>>): void;
}

export const useSpeed = create<SpeedState>()((set) => ({
  result: null,
  set: (patch) => set(patch),
}));

/** Why the measurement cannot start now, or null: the engine's checks, then dense weights. */
export function speedBlocker(s: Omit<EngineBusy, 'measuringSpeed'> & { dense: boolean }): string | null {
  const busy = engineBusyBlocker(s);
  if (busy) return busy;
  if (s.dense) return 'The weights are dense: prune first, then measure what the zeros buy.';
  return null;
}

export function currentSpeedBlocker(): string | null {
  return speedBlocker({ ...currentEngineBusy(), dense: usePrune.getState().weights === null });
}

export function speedRunning(): boolean {
  return jobRunning('speed');
}

/** A new model: forget the previous measurement. */
export function resetSpeed(): void {
  cancelJob('speed');
  useSpeed.getState().set({ result: null });
  useErrors.getState().clearError('speed');
}

export async function runSpeed(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('speed');
  if (speedRunning()) return;
  let job: JobHandle;
  try {
    const blocker = busyReason('speed') ?? currentSpeedBlocker();
    if (blocker) throw new BadOption(blocker);
    job = startJob('speed', { label: 'speed and size' });
  } catch (e) {
    errors.setError('speed', e);
    return;
  }
  const adapter = useEngine.getState().adapter?.description ?? 'unknown adapter';
  const weights = weightsLabel(usePrune.getState().weights, usePrune.getState().trainedRun);
  const startedAt = job.job!.startedAt;
  try {
    const report = await job.call({ type: 'speed' });
    if (!report.rows.length) throw new BadOption('The weights were dense when the measurement ran: nothing to compare. Prune first.');
    useSpeed.getState().set({ result: { report, adapter, weights, seconds: elapsedSeconds({ startedAt }) } });
  } catch (e) {
    errors.setError('speed', e instanceof Cancelled ? cancelledAfter('The speed measurement', { startedAt }) : e);
  } finally {
    job.finish();
  }
}

export function cancelSpeed(): void {
  cancelJob('speed');
}

/** Rows grouped by weight shape, in report order, with the dense row of each shape. */
export interface ShapeGroup {
  shape: string;
  N: number;
  K: number;
  count: number;
  sparsity: number;
  rows: SpeedRow[];
  dense: SpeedRow | undefined;
  /** Formats with the lowest decode (GEMV) and prefill (GEMM) time. */
  fastestGemv: string;
  fastestGemm: string;
}

export function groupByShape(rows: readonly SpeedRow[]): ShapeGroup[] {
  const groups = new Map<string, SpeedRow[]>();
  for (const r of rows) groups.set(r.shape, [...(groups.get(r.shape) ?? []), r]);
  return [...groups.values()].map((rs) => {
    const best = (key: 'gemv_ms' | 'gemm_ms') => rs.reduce((a, b) => (b[key] < a[key] ? b : a)).format;
    return {
      shape: rs[0].shape,
      N: rs[0].N,
      K: rs[0].K,
      count: rs[0].count,
      sparsity: rs[0].sparsity,
      rows: rs,
      dense: rs.find((r) => r.format === 'dense'),
      fastestGemv: best('gemv_ms'),
      fastestGemm: best('gemm_ms'),
    };
  });
}
