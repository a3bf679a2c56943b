// The one job slot of the page. The engine worker runs one request at a time, so the page runs one
// job at a time: a prune run (prune, then measure), a sweep, contextual pruning, a perplexity
// measurement, the speed measurement or a generation. This store owns the running job — what it
// is, its worker call, its stage and progress, when it started, whether a cancel was asked for —
// and every starter, blocker, progress bar and cancel button reads it. What a job produces stays
// in its own store (runs, results, outputs).
//
//   const job = startJob('perplexity', { label })     // BadOption when another job runs
//   const result = await job.call({ type: 'perplexity', … })   // progress lands in the slot
//   job.finish()
//   cancelJob()                                        // cancels the call in flight at once
import { create } from 'zustand';
import { BadOption, Cancelled } from '../core/errors';
import type { SweepPointResult } from '../core/jobs/sweep';
import type { Progress } from '../core/types';
import type { PendingCall, TokenUpdate } from '../worker/client';
import type { RequestBody } from '../worker/protocol';
import { getClient } from './client';
import { useEngine } from './engine-status';
import { useModel } from './model';
import { usePrune } from './prune';
import { now } from '../core/units';

export type JobKind = 'prune' | 'sweep' | 'contextual' | 'perplexity' | 'speed' | 'generate' | 'train';

export interface Job {
  /** Page-wide, never reused. */
  id: number;
  kind: JobKind;
  /** "sparsegpt 50%", "sweep of 7 points", … */
  label: string;
  /** The worker call in flight (null between calls). */
  callId: number | null;
  /** prune: 'prune' then 'eval'; generate: 'dense' then 'pruned'; otherwise null. */
  stage: string | null;
  startedAt: number;
  stageStartedAt: number;
  /** The latest progress event of the call in flight. */
  progress: Progress | null;
  /** Sweeps: which one, and its points. */
  sweep: { sweepId: number; pointsDone: number; pointsTotal: number } | null;
  /** A cancel was asked for: a job of several calls starts no further one. */
  cancelRequested: boolean;
}

interface JobState {
  current: Job | null;
  nextId: number;
}

export const useJob = create<JobState>()(() => ({ current: null, nextId: 1 }));

export { now };

/** Seconds since the job (or `from`) started. */
export function elapsedSeconds(job: Pick<Job, 'startedAt'>, at = now()): number {
  return Math.max(0, (at - job.startedAt) / 1000);
}

const RUNNING: Record<JobKind, string> = {
  prune: 'A pruning run',
  sweep: 'A sweep',
  contextual: 'Contextual pruning',
  perplexity: 'A perplexity measurement',
  speed: 'A speed measurement',
  generate: 'Text generation',
  train: 'A training run',
};

/** Why a job of `kind` cannot start now (another job holds the slot), or null. */
export function busyReason(kind: JobKind): string | null {
  const j = useJob.getState().current;
  if (!j) return null;
  if (j.kind === kind) return `${RUNNING[j.kind]} is already running.`;
  return `${RUNNING[j.kind]} is running; wait for it or cancel it first.`;
}

/** "Busy: a perplexity measurement is in progress." (the areas' blocker line). */
export function busyLine(kind: JobKind): string {
  const what = RUNNING[kind];
  return `Busy: ${what[0].toLowerCase()}${what.slice(1)} is in progress.`;
}

/** Why work outside the slot (an export) cannot start now: what runs, or null. */
export function anyJobBusy(): string | null {
  const j = useJob.getState().current;
  return j ? `${RUNNING[j.kind]} is running; wait for it or cancel it first.` : null;
}

/** The running job's kind (one of `kinds`, when given), or null. */
export function runningKind(...kinds: JobKind[]): JobKind | null {
  const j = useJob.getState().current;
  return j && (kinds.length === 0 || kinds.includes(j.kind)) ? j.kind : null;
}

export function jobRunning(...kinds: JobKind[]): boolean {
  return runningKind(...kinds) !== null;
}

/** A started job: its calls report into the slot while it is the current job. */
export class JobHandle {
  constructor(readonly id: number) {}

  /** The job, while it is still the current one. */
  get job(): Job | null {
    const c = useJob.getState().current;
    return c && c.id === this.id ? c : null;
  }

  get cancelRequested(): boolean {
    return this.job?.cancelRequested ?? true;
  }

  patch(p: Partial<Pick<Job, 'label' | 'sweep' | 'stage'>>): void {
    const c = this.job;
    if (c) useJob.setState({ current: { ...c, ...p } });
  }

  /**
   * Send a worker request as this job's call (a new stage when `stage` is given). Its progress
   * events update the slot; sweep points and generated tokens go to the callbacks while the call
   * is still this job's (a stale event of an earlier call is dropped).
   */
  call<B extends RequestBody>(
    body: B,
    opts: { stage?: string; onPoint?: (p: SweepPointResult, hfNames: Record<string, string>) => void; onToken?: (t: TokenUpdate) => void } = {},
  ): PendingCall<B['type']> {
    const mine = () => {
      const c = this.job;
      return c !== null && c.callId === call.id;
    };
    const call: PendingCall<B['type']> = getClient().call(
      body,
      (p) => {
        if (mine()) useJob.setState({ current: { ...this.job!, progress: p } });
      },
      opts.onPoint && ((p, hf) => mine() && opts.onPoint!(p, hf)),
      opts.onToken && ((t) => mine() && opts.onToken!(t)),
    );
    const c = this.job;
    if (c) useJob.setState({ current: { ...c, callId: call.id, progress: null, ...(opts.stage !== undefined ? { stage: opts.stage, stageStartedAt: now() } : {}) } });
    return call;
  }

  /** The job is over (done, failed or cancelled): the slot is free, and the model card's memory figures are asked for again. */
  finish(): void {
    if (this.job) useJob.setState({ current: null });
    refreshMemory();
  }
}

/** The weights' GPU budget, resident bytes and peaks into the model store (the model card shows them). */
export function refreshMemory(): void {
  void getClient()
    .call({ type: 'getState' })
    .then((s) => useModel.getState().set({ memory: s.memory }), () => undefined);
}

/** Claim the slot for a job of `kind`; BadOption (with what runs) when it is taken. */
export function startJob(kind: JobKind, opts: { label: string; stage?: string; sweep?: Job['sweep'] }): JobHandle {
  const busy = busyReason(kind);
  if (busy) throw new BadOption(busy);
  const { nextId } = useJob.getState();
  const t = now();
  useJob.setState({
    nextId: nextId + 1,
    current: { id: nextId, kind, label: opts.label, callId: null, stage: opts.stage ?? null, startedAt: t, stageStartedAt: t, progress: null, sweep: opts.sweep ?? null, cancelRequested: false },
  });
  return new JobHandle(nextId);
}

/** Cancel the running job (of one of `kinds`, when given): its call in flight stops at once. */
export function cancelJob(...kinds: JobKind[]): void {
  const c = useJob.getState().current;
  if (!c || (kinds.length > 0 && !kinds.includes(c.kind))) return;
  useJob.setState({ current: { ...c, cancelRequested: true } });
  if (c.callId !== null) getClient().cancel(c.callId);
}

/** "The sweep was cancelled after 12.3 s." plus what the weights are now. */
export function cancelledAfter(what: string, job: Pick<Job, 'startedAt'>, weightsNow?: string): Cancelled {
  return new Cancelled(`${what} was cancelled after ${elapsedSeconds(job).toFixed(1)} s.${weightsNow ? ` ${weightsNow}` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// How far along: one fraction per kind, one estimate of the time left

/** How far along one call is: the work-weighted fraction where the engine gives one, else done / total. */
export function progressFraction(p: Progress | null): number | null {
  if (!p) return null;
  if (p.fraction !== undefined) return Math.min(1, Math.max(0, p.fraction));
  return p.total > 0 ? Math.min(1, p.done / p.total) : null;
}

/** Prune: about 85 % pruning (sublayers done) and 15 % evaluation. */
export function pruneFraction(stage: string | null, p: Progress | null): number | null {
  const inner = progressFraction(p);
  if (stage === 'prune') return inner === null ? null : 0.85 * inner;
  return 0.85 + 0.15 * (inner ?? 0);
}

/** Sweep: points measured plus the share of the current one (the dense point is all evaluation). */
export function sweepFraction(pointsDone: number, pointsTotal: number, p: Progress | null): number | null {
  if (pointsTotal <= 0) return null;
  const inner = progressFraction(p);
  let within = 0;
  if (p && inner !== null) within = p.phase === 'perplexity' ? (p.detail?.includes('(dense)') ? inner : 0.85 + 0.15 * inner) : 0.85 * inner;
  return Math.min(1, (pointsDone + within) / pointsTotal);
}

/** Contextual: its stages (point/points) and the progress within the stage. */
export function stagedFraction(p: Progress | null): number | null {
  if (!p || !p.points || !p.point) return null;
  const inner = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  return Math.min(1, (p.point - 1 + inner) / p.points);
}

/** The fraction done of any job, or null when there is no telling. */
export function jobFraction(job: Job): number | null {
  const p = job.progress;
  switch (job.kind) {
    case 'prune':
      return pruneFraction(job.stage, p);
    case 'sweep':
      return job.sweep ? sweepFraction(job.sweep.pointsDone, job.sweep.pointsTotal, p) : null;
    case 'contextual':
      return stagedFraction(p);
    case 'perplexity':
    case 'speed':
    case 'train':
      return p && p.total > 0 ? Math.min(1, p.done / p.total) : null;
    case 'generate':
      return null;
  }
}

/** Seconds left at the rate so far; null until there is a little history to go on. */
export function jobEta(fraction: number | null, elapsed: number): number | null {
  return fraction !== null && fraction > 0.02 && elapsed > 0.5 ? (elapsed * (1 - fraction)) / fraction : null;
}

// ---------------------------------------------------------------------------------------------
// What keeps a short GPU request from starting (the panels render it, the starters check it)

export interface EngineBusy {
  engineReady: boolean;
  hasModel: boolean;
  /** A prune run, sweep or contextual run. */
  pruneJob: boolean;
  measuringPpl: boolean;
  /** Left out where the speed measurement is the request itself. */
  measuringSpeed?: boolean;
  exporting: boolean;
}

/** Why the engine cannot take the request now, or null. */
export function engineBusyBlocker(s: EngineBusy): string | null {
  if (!s.engineReady) return 'The GPU engine is not ready.';
  if (!s.hasModel) return 'Load a model first.';
  if (s.pruneJob) return 'Wait for the running prune job (or cancel it).';
  if (s.measuringPpl) return 'Wait for the perplexity measurement.';
  if (s.measuringSpeed) return 'Wait for the speed measurement.';
  if (s.exporting) return 'Wait for the export.';
  return null;
}

/** The job facts of EngineBusy from the slot. */
export function jobBusy(kind: JobKind | null): Required<Pick<EngineBusy, 'pruneJob' | 'measuringPpl' | 'measuringSpeed'>> {
  return { pruneJob: kind === 'prune' || kind === 'sweep' || kind === 'contextual', measuringPpl: kind === 'perplexity', measuringSpeed: kind === 'speed' };
}

/** The same facts read from the stores now. */
export function currentEngineBusy(): Required<EngineBusy> {
  return {
    engineReady: useEngine.getState().status === 'ready',
    hasModel: useModel.getState().summary !== null,
    ...jobBusy(useJob.getState().current?.kind ?? null),
    exporting: usePrune.getState().exportStatus.status === 'exporting',
  };
}
