// Progress of the running prune run or sweep: what it is doing (layer / sublayer, point), a bar,
// the elapsed time and an estimate of the time left.
import { jobFraction, usePrune, type PruneJob } from '../../store/prune';
import { formatSeconds } from '../format';
import { useNow } from '../hooks';

function describe(job: PruneJob): string {
  const p = job.progress;
  if (job.kind === 'prune') {
    if (job.stage === 'eval') return `Measuring the pruned model · ${p?.detail ?? 'starting…'}`;
    if (!p) return `Pruning (${job.label}) · collecting calibration inputs…`;
    return `Pruning (${job.label}) · ${p.detail ?? `${p.done}/${p.total}`} · ${p.done}/${p.total} sublayers`;
  }
  const head = `Sweep · ${job.pointsDone}/${job.pointsTotal} points measured`;
  return p?.detail ? `${head} · ${p.detail}` : `${head} · starting…`;
}

export function JobProgress({ kind }: { kind: PruneJob['kind'] }) {
  const job = usePrune((s) => s.job);
  const active = job !== null && job.kind === kind;
  const now = useNow(active, 250);
  if (!job || job.kind !== kind) return null;
  const elapsed = Math.max(0, (now - job.startedAt) / 1000);
  const f = jobFraction(job);
  // The estimate needs a little history to mean anything.
  const eta = f !== null && f > 0.02 && elapsed > 0.5 ? (elapsed * (1 - f)) / f : null;
  const p = job.progress;
  return (
    <div
      className="progress-block job-progress"
      data-testid={kind === 'prune' ? 'prune-progress' : 'sweep-progress'}
      data-done={p?.done}
      data-total={p?.total}
      data-stage={job.kind === 'prune' ? job.stage : 'sweep'}
    >
      <label>
        <span className="job-what">{describe(job)}</span>
        <progress max={1} value={f ?? undefined} aria-label={kind === 'prune' ? 'Prune progress' : 'Sweep progress'} />
        <span className="muted job-time">
          {formatSeconds(elapsed)} elapsed{eta !== null ? ` · about ${formatSeconds(eta)} left` : ''}
        </span>
      </label>
    </div>
  );
}
