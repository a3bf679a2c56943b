// The Train area: recover a pruned model (its zeros kept) or prune gradually by magnitude while
// training, on the Data area's calibration text with AdamW (warm-up, then cosine); a live loss
// curve from the steps' progress events, and the perplexity before and after on the evaluation
// text with the Evaluate settings.
import { useMemo, useRef } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useTrain, type TrainMode, type TrainSettings } from '../store/train';
import { useFileExports } from '../store/export-actions';
import { useModel } from '../store/model';
import { saveLossCsv } from '../store/train-export';
import { saveChart } from './prune/chart-export';
import { compareDenseTwin, discardInterrupted, pauseTraining, resumeTraining, runTraining } from '../store/train-actions';
import { useCalibrationBlocker } from './blockers';
import { CHART_MARGIN, NUMBER_AXIS, xTitle, yTitle } from './chart-style';
import { ErrorAlert } from './ErrorAlert';
import { Fact } from './Fact';
import { formatMetric, formatSeconds } from './format';
import { useThrottled } from './hooks';
import { JobProgress, RunControls, submitTo, useJobKind } from './JobControls';
import { DECIMAL, NumberField, SelectField, TextField, fieldsOf } from './NumberField';

const ON_CANCEL: Record<TrainSettings['onCancel'], string> = {
  keep: 'keep the weights trained so far',
  revert: 'revert to the weights before the run',
};

const MODE_LABELS: Record<TrainMode, string> = {
  recover: 'Recover (keep the zeros)',
  gmp: 'Gradual magnitude pruning',
};

function Settings({ disabled }: { disabled: boolean }) {
  const s = useTrain((st) => st.settings);
  const set = useTrain((st) => st.setSettings);
  const field = fieldsOf(s, set, disabled);
  return (
    <div className="form-grid">
      <SelectField id="train-mode" label="Mode" value={s.mode} labels={MODE_LABELS} disabled={disabled} onChange={(mode) => set({ mode })} />
      <NumberField {...field('steps', 'train-steps')} label="Steps" min={1} />
      <NumberField {...field('batch', 'train-batch')} label="Windows per step" min={1} />
      <NumberField {...field('seqlen', 'train-seqlen')} label="Tokens per window" min={2} />
      <NumberField {...field('lr', 'train-lr')} {...DECIMAL} label="Learning rate" min={0} />
      <NumberField {...field('warmup', 'train-warmup')} label="Warm-up steps" min={0} />
      <NumberField {...field('checkpointEvery', 'train-checkpoint-every')} label="Checkpoint every (steps)" min={1} />
      <label className="check">
        <input type="checkbox" data-testid="train-distill" checked={s.distill} disabled={disabled} onChange={(e) => set({ distill: e.currentTarget.checked })} />
        <span>Distil from the model as loaded (adds KL to its next-token distribution)</span>
      </label>
      <label className="check">
        <input type="checkbox" data-testid="train-squarehead" checked={s.squareHead} disabled={disabled} onChange={(e) => set({ squareHead: e.currentTarget.checked })} />
        <span>…and its hidden states (SquareHead: each layer's normalised MSE to the model as loaded)</span>
      </label>
      <label className="check">
        <input type="checkbox" data-testid="train-from-scratch" checked={s.fromScratch} disabled={disabled} onChange={(e) => set({ fromScratch: e.currentTarget.checked })} />
        <span>From scratch: fresh weights as transformers initialises this family</span>
      </label>
      {s.fromScratch ? <NumberField {...field('seed', 'train-seed')} label="Seed" min={0} /> : null}
      <TextField {...field('freeze', 'train-freeze')} label="Frozen tensors" placeholder="e.g. embed, layers.0" title="Comma-separated tensor names or prefixes left untrained (and unpruned): embed, layers.0, final_norm, head" />
      <label className="check">
        <input type="checkbox" data-testid="train-recompute" checked={s.recompute} disabled={disabled} onChange={(e) => set({ recompute: e.currentTarget.checked })} />
        <span>Recompute activations (keeps one layer's, not all: less GPU memory, about one more forward per step)</span>
      </label>
      <TextField {...field('gpuMemory', 'train-gpu-memory')} label="GPU memory budget" placeholder="e.g. 8GB" title="WebGPU cannot tell how much memory the GPU has: give it, and a run predicted to need more is refused before it starts, with the sizes" />
      <SelectField id="train-on-cancel" label="When cancelled" value={s.onCancel} labels={ON_CANCEL} disabled={disabled} onChange={(onCancel) => set({ onCancel })} />
      {s.mode === 'gmp' ? (
        <>
          <NumberField {...field('gmpPct', 'train-gmp')} {...DECIMAL} label="Final sparsity (%)" min={0} max={99} />
          <NumberField {...field('gmpT0', 'train-gmp-t0')} label="First pruning step" min={0} />
          <NumberField {...field('gmpDt', 'train-gmp-dt')} label="Steps between prunings" min={1} />
          <NumberField {...field('gmpN', 'train-gmp-n')} label="Pruning steps after the first" min={0} />
        </>
      ) : null}
    </div>
  );
}

/** Chart updates at most this often while steps stream in. */
const THROTTLE_MS = 250;

function LossChart() {
  const live = useThrottled(useTrain((s) => s.live), THROTTLE_MS);
  const result = useTrain((s) => s.result);
  const running = useJobKind() === 'train';
  const losses = running || !result ? live : result.losses;
  const data = useMemo(() => losses.map((loss, i) => ({ step: i + 1, loss })), [losses]);
  const box = useRef<HTMLDivElement>(null);
  const busy = useFileExports((s) => s.busy);
  const model = useModel((s) => s.summary?.name ?? 'model');
  if (!data.length) return null;
  const save = (format: 'svg' | 'png') => {
    if (!box.current || !result) return;
    void saveChart(format, box.current, {
      title: `Training loss · ${model}`,
      subtitle: `${result.mode === 'gmp' ? 'gradual pruning' : 'recovery'} · ${result.steps} steps`,
      legend: [{ label: 'mean next-token cross-entropy per step', color: '#0b62c4', shape: 'circle' }],
      baseName: model.replace(/[^A-Za-z0-9._-]+/g, '_'),
      what: 'training-loss',
    });
  };
  const off = running || !result || busy !== null;
  return (
    <figure className="chart" data-testid="train-loss-chart" data-steps={data.length} data-first={data[0].loss} data-last={data[data.length - 1].loss}>
      <figcaption>
        <span>Training loss per step (mean next-token cross-entropy)</span>
        <span className="button-row chart-export">
          <button type="button" className="small" data-testid="train-loss-csv" disabled={off} onClick={() => void saveLossCsv()} title="Save the loss of every step (and the evaluations) as CSV">
            CSV
          </button>
          <button type="button" className="small" data-testid="train-loss-svg" disabled={off} onClick={() => save('svg')} title="Save the loss curve as an SVG file">
            SVG
          </button>
          <button type="button" className="small" data-testid="train-loss-png" disabled={off} onClick={() => save('png')} title="Save the loss curve as a PNG image (2×)">
            PNG
          </button>
        </span>
      </figcaption>
      <div ref={box}>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={data} margin={CHART_MARGIN}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="step" {...NUMBER_AXIS} interval="preserveStartEnd" label={xTitle('step')} />
            <YAxis {...NUMBER_AXIS} interval="preserveStartEnd" domain={['auto', 'auto']} tickFormatter={(v: number) => formatMetric(v, 3)} label={yTitle('loss', 20)} />
            <Tooltip formatter={(v) => formatMetric(Number(v), 4)} labelFormatter={(l) => `step ${l}`} />
            <Line type="linear" dataKey="loss" stroke="#0b62c4" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

function Result() {
  const r = useTrain((s) => s.result);
  const cancelled = useTrain((s) => s.cancelled);
  if (cancelled) {
    return (
      <p className="muted" data-testid="train-cancelled" data-reverted={cancelled.reverted ? 'true' : 'false'}>
        Cancelled after {cancelled.steps} steps;{' '}
        {cancelled.reverted ? 'the weights were reverted to those before the run.' : 'the weights keep them (reload the model for the original).'}
      </p>
    );
  }
  if (!r) return null;
  const change = r.ppl !== null && r.ppl_start !== null ? r.ppl / r.ppl_start - 1 : null;
  return (
    <div className="result" data-testid="train-result" data-ppl-start={r.ppl_start ?? ''} data-ppl={r.ppl ?? ''} data-sparsity={r.sparsity} data-kl-first={r.kl[0] ?? ''} data-kl-last={r.kl.at(-1) ?? ''} data-squarehead-first={r.features?.[0] ?? ''} data-squarehead-last={r.features?.at(-1) ?? ''}>
      <dl className="facts">
        <Fact label="Perplexity" testId="train-ppl">
          {r.ppl_start === null ? '—' : formatMetric(r.ppl_start, 5)} → {r.ppl === null ? '—' : formatMetric(r.ppl, 5)}
          {change !== null ? <span className={change > 0 ? 'worse' : 'better'}>{` (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %)`}</span> : null}
        </Fact>
        <Fact label="Zeros in the linear layers" testId="train-sparsity">{(r.sparsity * 100).toFixed(2)} %</Fact>
        <Fact label="Trained">
          {MODE_LABELS[r.mode]} from {r.from}: {r.steps} steps, {r.tokens.toLocaleString('en-US')} tokens of {r.textLabel}
        </Fact>
        {r.kl.length ? (
          <Fact label="KL to the teacher" testId="train-kl">
            {formatMetric(r.kl[0], 4)} → {formatMetric(r.kl[r.kl.length - 1], 4)} per token
          </Fact>
        ) : null}
        {r.features?.length ? (
          <Fact label="SquareHead to the teacher" testId="train-squarehead-loss">
            {formatMetric(r.features[0], 4)} → {formatMetric(r.features[r.features.length - 1], 4)} (Σ over layers of ‖h − h_teacher‖² / ‖h_teacher‖²)
          </Fact>
        ) : null}
        <Fact label="Speed">{r.tokens_per_s.toFixed(0)} tokens/s, {formatSeconds(r.seconds)}</Fact>
        <Fact label="Evaluation">{r.evalLabel}</Fact>
      </dl>
    </div>
  );
}

/** A run interrupted by a reload (or a crash) with a checkpoint in this browser: resume or forget it. */
function Interrupted({ disabled }: { disabled: boolean }) {
  const p = useTrain((s) => s.interrupted);
  if (!p || p.step === 0) return null;
  return (
    <div className="notice" role="status" data-testid="train-interrupted" data-step={p.step} data-steps={p.steps} data-paused={p.paused ? 'true' : 'false'}>
      <span>
        {p.paused ? 'A paused' : 'An unfinished'} training run ({p.settings.mode === 'gmp' ? `gradual pruning to ${p.settings.gmpPct} %` : 'recovery'} of {p.labels.from}, {p.steps} steps, on {p.model}) has a
        checkpoint at step {p.step}. Resuming continues it as if it had not stopped (same text and evaluation settings needed).
      </span>
      <span className="button-row">
        <button type="button" data-testid="train-resume" disabled={disabled} onClick={() => void resumeTraining()}>
          Resume from step {p.step}
        </button>
        <button type="button" data-testid="train-discard" disabled={disabled} onClick={discardInterrupted}>
          Discard
        </button>
      </span>
    </div>
  );
}

function Notice() {
  const notice = useTrain((s) => s.notice);
  return notice ? (
    <p className="notice" role="status" data-testid="train-notice">
      {notice}
    </p>
  ) : null;
}

/** Shown for gradual pruning from scratch: the same run beside a dense model of its non-zeros. */
function TwinButton({ disabled }: { disabled: boolean }) {
  const s = useTrain((st) => st.settings);
  if (s.mode !== 'gmp' || !s.fromScratch) return null;
  return (
    <button type="button" data-testid="train-twin" disabled={disabled} onClick={() => void compareDenseTwin()} title="Train this GMP run and a dense model with as many parameters as it keeps non-zeros, from fresh weights on the same tokens; the model is loaded again afterwards">
      Compare with a dense twin
    </button>
  );
}

/** GMP from scratch against its dense twin: shapes, sizes, and the perplexity each reached. */
function TwinTable() {
  const t = useTrain((s) => s.twin);
  if (!t) return null;
  const rows = [
    ['twin-sparse', `GMP to ${(t.sparse.result.sparsity * 100).toFixed(0)} %`, t.sparse],
    ['twin-dense', 'Dense twin', t.dense],
  ] as const;
  return (
    <table className="data-table" data-testid="train-twin-table">
      <caption>
        From fresh weights, {t.sparse.result.steps} steps each on {t.sparse.result.tokens.toLocaleString('en-US')} tokens of {t.textLabel}; the planner shows where each sits.
      </caption>
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Shape</th>
          <th scope="col">Non-zero / parameters</th>
          <th scope="col">Last loss</th>
          <th scope="col">Perplexity</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([id, label, s]) => (
          <tr key={id} data-testid={id} data-params={s.params} data-nonzeros={s.nonzeros} data-ppl={s.result.ppl ?? ''}>
            <th scope="row">{label}</th>
            <td>
              hidden {s.hidden}, {s.heads} heads, MLP {s.ffn}, {s.layers} layers
            </td>
            <td>
              {s.nonzeros.toLocaleString('en-US')} / {s.params.toLocaleString('en-US')}
            </td>
            <td>{formatMetric(s.result.losses[s.result.losses.length - 1], 4)}</td>
            <td>
              {s.result.ppl_start === null ? '—' : formatMetric(s.result.ppl_start, 5)} → {s.result.ppl === null ? '—' : formatMetric(s.result.ppl, 5)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TrainPanel() {
  const running = useJobKind() === 'train';
  const pausing = useTrain((s) => s.pausing);
  const blocker = useCalibrationBlocker('train');
  return (
    <section className="panel panel-train" aria-labelledby="train-heading" data-testid="train-panel">
      <h2 id="train-heading">Train</h2>
      <p className="muted">
        Trains the weights on your GPU with AdamW on the calibration text. Recover keeps the zeros of a pruned model and wins back what pruning
        cost; gradual magnitude pruning removes the smallest weights step by step while it trains. The perplexity before and after is measured
        on the evaluation text with the Evaluate settings.
      </p>
      <Interrupted disabled={running} />
      <Notice />
      <form className="method-form" onSubmit={submitTo(runTraining)} noValidate>
        <Settings disabled={running} />
        <RunControls kind="train" ids={{ run: 'train-run', cancel: 'train-cancel', blocker: 'train-blocker' }} label="Train" blocker={blocker}>
          <button type="button" data-testid="train-pause" disabled={!running || pausing} onClick={pauseTraining} title="Stop at the next step with a checkpoint; Resume continues exactly from there">
            {pausing ? 'Pausing…' : 'Pause'}
          </button>
          <TwinButton disabled={running || !!blocker} />
        </RunControls>
      </form>
      <JobProgress kind="train" />
      <ErrorAlert area="train" testId="train-error" />
      <LossChart />
      <Result />
      <TwinTable />
    </section>
  );
}
