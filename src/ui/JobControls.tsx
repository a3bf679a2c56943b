// What every area shows of its job: the run and cancel buttons with the reason the run cannot start
// (RunControls), and the progress of the running job (JobProgress): what it is doing, a bar, the
// elapsed time and an estimate of the time left. One component each for every job kind; what
// differs per kind — the words, the test id, the data attributes the end-to-end tests read — is the
// table below.
import type { FormEvent, ReactNode } from 'react';
import { cancelJob, elapsedSeconds, jobEta, jobFraction, useJob, type Job, type JobKind } from '../store/job';
import { formatSeconds } from './format';
import { useNow } from './hooks';

interface KindView {
  testId: string;
  aria: string;
  describe(job: Job): string;
  /** Extra data attributes (stage, counts) for the end-to-end tests. */
  data?(job: Job): Record<string, string | number | undefined>;
}

const doneOf = (job: Job) => ({ 'data-done': job.progress?.done, 'data-total': job.progress?.total });

const VIEWS: Record<JobKind, KindView> = {
  prune: {
    testId: 'prune-progress',
    aria: 'Prune progress',
    describe(job) {
      const p = job.progress;
      if (job.stage === 'eval') return `Measuring the pruned model · ${p?.detail ?? 'starting…'}`;
      if (!p) return `Pruning (${job.label}) · collecting calibration inputs…`;
      return `Pruning (${job.label}) · ${p.detail ?? `${p.done}/${p.total}`} · ${p.done}/${p.total} sublayers`;
    },
    data: (job) => ({ ...doneOf(job), 'data-stage': job.stage ?? undefined }),
  },
  sweep: {
    testId: 'sweep-progress',
    aria: 'Sweep progress',
    describe(job) {
      const head = `Sweep · ${job.sweep?.pointsDone ?? 0}/${job.sweep?.pointsTotal ?? 0} points measured`;
      return job.progress?.detail ? `${head} · ${job.progress.detail}` : `${head} · starting…`;
    },
    data: (job) => ({ ...doneOf(job), 'data-stage': 'sweep' }),
  },
  contextual: {
    testId: 'ctx-progress',
    aria: 'Contextual pruning progress',
    describe(job) {
      const p = job.progress;
      return `${p?.point ? `Step ${p.point}/${p.points} · ` : ''}${p?.detail ?? 'starting…'}`;
    },
    data: (job) => ({ 'data-step': job.progress?.point, 'data-steps': job.progress?.points }),
  },
  perplexity: {
    testId: 'ppl-progress',
    aria: 'Perplexity progress',
    describe(job) {
      const p = job.progress;
      return !p ? 'Starting…' : p.phase === 'perplexity' ? `Window ${p.done}/${p.total}` : `${p.phase} ${p.done}/${p.total}`;
    },
    data: doneOf,
  },
  speed: {
    testId: 'speed-progress',
    aria: 'Speed measurement progress',
    describe(job) {
      const p = job.progress;
      return `Measuring · ${p?.detail ? `${p.detail} done · ${p.done}/${p.total}` : 'timing the first shape…'}`;
    },
    data: doneOf,
  },
  train: {
    testId: 'train-progress',
    aria: 'Training progress',
    describe(job) {
      const p = job.progress;
      if (!p) return `Training (${job.label}) · measuring the perplexity before…`;
      return p.phase === 'train' ? `Training (${job.label}) · ${p.detail ?? `step ${p.done}/${p.total}`}` : `Training (${job.label}) · ${p.phase} ${p.done}/${p.total}`;
    },
    data: (job) => ({ ...doneOf(job), 'data-loss': job.progress?.loss }),
  },
  generate: {
    testId: 'gen-progress',
    aria: 'Generation progress',
    describe: (job) => `Generating with the ${job.stage ?? 'dense'} weights (${job.label})`,
  },
};

/** The running job's progress when it is of `kind`; nothing otherwise. */
export function JobProgress({ kind }: { kind: JobKind }) {
  const job = useJob((s) => (s.current?.kind === kind ? s.current : null));
  const now = useNow(job !== null, 250);
  if (!job) return null;
  const view = VIEWS[kind];
  const elapsed = elapsedSeconds(job, now);
  const f = jobFraction(job);
  const eta = jobEta(f, elapsed);
  return (
    <div className="progress-block job-progress" data-testid={view.testId} {...view.data?.(job)}>
      <label>
        <span className="job-what">{view.describe(job)}</span>
        <progress max={1} value={f ?? undefined} aria-label={view.aria} />
        <span className="muted job-time">
          {formatSeconds(elapsed)} elapsed{eta !== null ? ` · about ${formatSeconds(eta)} left` : ''}
        </span>
      </label>
    </div>
  );
}

/** The running job's kind (a primitive: progress events do not re-render the caller). */
export function useJobKind(): JobKind | null {
  return useJob((s) => s.current?.kind ?? null);
}

interface RunControlsProps {
  /** The area's job: Cancel is enabled while it runs, and cancels it. */
  kind: JobKind;
  /** Test ids of the run and cancel buttons and of the blocker line (also its element id). */
  ids: { run: string; cancel: string; blocker: string };
  /** The run button's text. */
  label: ReactNode;
  /** The area's own state keeps the run button off (e.g. its other job runs). */
  busy?: boolean;
  /** Why the run cannot start now (shown under the buttons unless a job of the area runs), or null. */
  blocker: string | null;
  /** A plain button (else the form's submit button). */
  onRun?: () => void;
  /** Buttons or facts after Cancel. */
  children?: ReactNode;
}

/** Run and Cancel for an area's job, with the reason the run cannot start. */
export function RunControls({ kind, ids, label, busy = false, blocker, onRun, children }: RunControlsProps) {
  const running = useJobKind() === kind;
  const shown = blocker && !busy && !running ? blocker : null;
  return (
    <>
      <div className="button-row">
        <button
          type={onRun ? 'button' : 'submit'}
          className="primary"
          data-testid={ids.run}
          disabled={busy || running || blocker !== null}
          aria-describedby={shown ? ids.blocker : undefined}
          onClick={onRun}
        >
          {label}
        </button>
        <button type="button" data-testid={ids.cancel} disabled={!running} onClick={() => cancelJob(kind)}>
          Cancel
        </button>
        {children}
      </div>
      {shown ? (
        <p id={ids.blocker} className="blocker" data-testid={ids.blocker}>
          {shown}
        </p>
      ) : null}
    </>
  );
}

/** A form's submit handler that starts `run` (the page stays put). */
export function submitTo(run: () => Promise<void>) {
  return (e: FormEvent) => {
    e.preventDefault();
    void run();
  };
}
