// The Results area: the latest prune run, the sparsity-vs-perplexity chart, the table of runs,
// the per-sublayer table of the selected run, the speed & size of the current weights, and the
// exports: the model (Hugging Face folder, or compressed-tensors sparse-bitmask), the runs as
// CSV / JSON, and an llm-compressor recipe per run (the chart's SVG / PNG are next to the chart).
import { LayerChart } from './LayerChart';
import { useDeferredValue } from 'react';
import { weightsLabel } from '../../store/eval-settings';
import { selectRun } from '../../store/prune-actions';
import { saveCompressedModel, saveGguf, saveModelFolder, saveRecipe, saveResultsCsv, saveResultsJson, useFileExports } from '../../store/export-actions';
import { METHOD_LABELS, selectedRun, usePrune, type RunRecord } from '../../store/prune';
import { targetLabel } from '../../core/prune/types';
import { ErrorAlert } from '../ErrorAlert';
import { formatMetric, formatSeconds } from '../format';
import { RunHistory } from './RunHistory';
import { SpeedPanel } from './SpeedPanel';
import { SweepChart } from './SweepChart';
import { useJobKind } from '../JobControls';
import { DataTable } from '../Table';
import { Fact, Warnings } from '../Fact';

// Record the settings of every run from the first one on (for recipes and the JSON export).

function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)} %`;
}

function denseOf(run: RunRecord, dense: Record<string, number>): number | undefined {
  return dense[run.evalKey];
}

function Delta({ ppl, dense }: { ppl: number | null; dense: number | undefined }) {
  if (ppl === null || dense === undefined) return <span className="muted">—</span>;
  const d = ppl / dense - 1;
  return <span className={d > 0 ? 'worse' : 'better'}>{`${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} %`}</span>;
}

function LatestResult() {
  const runs = useDeferredValue(usePrune((s) => s.runs));
  const dense = usePrune((s) => s.dense);
  const run = [...runs].reverse().find((r) => r.source === 'prune');
  if (!run) return null;
  const d = denseOf(run, dense);
  return (
    <div
      className="result prune-result"
      data-testid="prune-result"
      data-run-id={run.id}
      data-ppl={run.ppl === null ? '' : String(run.ppl)}
      data-sparsity={String(run.sparsity)}
      data-dense-ppl={d === undefined ? '' : String(d)}
      aria-live="polite"
    >
      <p className="result-headline">
        {METHOD_LABELS[run.method]} {run.target ? targetLabel(run.target) : ''} → perplexity{' '}
        <span className="big">{run.ppl === null ? 'not measured' : formatMetric(run.ppl, 6)}</span>
      </p>
      <dl className="facts">
        <Fact label="Achieved sparsity">{pct(run.sparsity, 2)}</Fact>
        <Fact label="Dense perplexity">{d === undefined ? 'not measured with these settings' : formatMetric(d, 6)}</Fact>
        <Fact label="Change"><Delta ppl={run.ppl} dense={d} /></Fact>
        <Fact label="Time">{formatSeconds(run.pruneSeconds)} pruning, {formatSeconds(run.seconds)} in all</Fact>
        <Fact label="Calibration">{run.calibLabel}</Fact>
        <Fact label="Evaluation">{run.evalLabel}</Fact>
      </dl>
      <Warnings warnings={run.warnings} />
    </div>
  );
}

function RunsTable() {
  // Deferred: a new run re-renders the tables at low priority, in slices, not in one long task.
  const runs = useDeferredValue(usePrune((s) => s.runs));
  const dense = useDeferredValue(usePrune((s) => s.dense));
  const selected = useDeferredValue(usePrune(selectedRun));
  // Always mounted (with an empty row), so the first run of a sweep only adds a row.
  return (
    <DataTable testId="runs-table" caption="Runs (select one to see its sublayers)" cols={['#', 'Method', 'Target', '#Sparsity', '#Perplexity', '#vs dense', '#Seconds', 'From', 'Recipe']}>
      {runs.length === 0 ? (
        <tr>
          <td colSpan={9} className="muted">
            No runs yet.
          </td>
        </tr>
      ) : null}
      {runs.map((r) => (
        <tr
          key={r.id}
          data-testid="run-row"
          data-run-id={r.id}
          data-method={r.method}
          data-sparsity={String(r.sparsity)}
          data-ppl={r.ppl === null ? '' : String(r.ppl)}
          aria-selected={selected?.id === r.id}
          className={selected?.id === r.id ? 'selected' : undefined}
          title={`Evaluation: ${r.evalLabel}\nCalibration: ${r.calibLabel}`}
        >
          <td>
            <button type="button" className="link-button" onClick={() => selectRun(r.id)} disabled={!r.layers.length} aria-label={`Show the sublayers of run ${r.id}`}>
              {r.id}
            </button>
          </td>
          <td>{METHOD_LABELS[r.method]}</td>
          <td>{r.target ? targetLabel(r.target) : '—'}</td>
          <td className="num">{pct(r.sparsity)}</td>
          <td className="num">{r.ppl === null ? '—' : formatMetric(r.ppl, 6)}</td>
          <td className="num">{r.method === 'dense' ? '' : <Delta ppl={r.ppl} dense={denseOf(r, dense)} />}</td>
          <td className="num">{r.seconds.toFixed(1)}</td>
          <td>{r.source === 'sweep' ? `sweep ${r.sweepId}` : r.source === 'train' ? `train${r.trained?.fromRunId ? ` ← ${r.trained.fromRunId}` : ''}` : 'prune'}</td>
          <td>
            {r.method !== 'dense' ? (
              <button
                type="button"
                className="link-button"
                data-testid="run-recipe"
                onClick={() => void saveRecipe(r.id)}
                title={r.method === 'trained' ? 'An llm-compressor recipe that repeats this training run (its one-shot stage, then the train stage with the same schedule) on a larger model' : 'An llm-compressor recipe that repeats this run (method, sparsity or pattern, calibration samples, sequence length) on a larger model'}
                aria-label={`Save an llm-compressor recipe for run ${r.id}`}
              >
                YAML
              </button>
            ) : null}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function Bar({ value, max, kind }: { value: number; max: number; kind: 'sparsity' | 'error' }) {
  const w = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  return (
    <span className={`bar bar-${kind}`} aria-hidden="true">
      <span style={{ width: `${(w * 100).toFixed(1)}%` }} />
    </span>
  );
}

function LayerTable() {
  const run = useDeferredValue(usePrune(selectedRun));
  const hfNames = usePrune((s) => s.hfNames);
  if (!run || !run.layers.length) return null;
  const maxErr = Math.max(...run.layers.map((l) => l.rel_error), 1e-12);
  return (
    <DataTable
      testId="layer-table"
      className="layer-table"
      wrapClassName="layer-wrap"
      data={{ 'data-run-id': run.id }}
      caption={<>Sublayers of run {run.id} ({run.label}): sparsity and relative reconstruction error ‖WX − ŴX‖² / ‖WX‖² on the calibration inputs</>}
      cols={['Sublayer / Hugging Face module', '#Sparsity', '#Rel. error', 'Note']}
    >
      {run.layers.map((l) => (
        <tr key={l.name} data-testid="layer-row" data-name={l.name} data-sparsity={String(l.sparsity)} data-rel-error={String(l.rel_error)}>
          <td className="mono sublayer">
            {l.name}
            {hfNames[l.name] && hfNames[l.name] !== l.name ? <span className="hf-name">{hfNames[l.name]}</span> : null}
          </td>
          <td className="num">
            <Bar value={l.sparsity} max={1} kind="sparsity" />
            {pct(l.sparsity)}
          </td>
          <td className="num">
            <Bar value={l.rel_error} max={maxErr} kind="error" />
            {l.rel_error.toExponential(2)}
          </td>
          <td className="small">
            {l.damp !== undefined ? `λ ${l.damp.toExponential(1)}` : ''}
            {l.note ? ` ${l.note}` : ''}
            {l.history ? (
              <span data-testid="sparsellm-history" title="‖Y − Ŷ‖²/‖Y‖² of the whole MLP on the calibration tokens after each alternation (the first is SparseGPT)">
                {' '}SparseLLM MLP error: {l.history.map((e) => e.toFixed(3)).join(' → ')} (kept {(l.kept ?? l.history.length - 1) + 1})
              </span>
            ) : null}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function ExportSection() {
  const weights = usePrune((s) => s.weights);
  const trained = usePrune((s) => s.trainedRun);
  const busy = useJobKind() !== null;
  const status = usePrune((s) => s.exportStatus);
  const hasRuns = usePrune((s) => s.runs.length > 0);
  const fileBusy = useFileExports((s) => s.busy);
  const fileStatus = useFileExports((s) => s.last);
  const ggufNotes = useFileExports((s) => s.notes);
  const exporting = status.status === 'exporting';
  const reason = busy ? 'Wait for the running job.' : weights === null ? 'The weights are dense: prune first.' : null;
  return (
    <div className="export">
      <h3>Export</h3>
      <p className="muted">
        The current weights ({weightsLabel(weights, trained)}) as a Hugging Face folder (transformers, vLLM): config and tokenizer files,
        model.safetensors with the zeros in place, and prune_studio.json describing the run. This is the format to use.
      </p>
      <div className="button-row">
        <button type="button" className="primary" data-testid="export-model" disabled={reason !== null || exporting} onClick={() => void saveModelFolder()}>
          {exporting ? 'Exporting…' : 'Export pruned model'}
        </button>
        {reason ? <span className="muted">{reason}</span> : null}
      </div>
      <p className="muted">
        For llama.cpp and Ollama: the current weights (dense or pruned, zeros kept) as one GGUF file. llama, qwen2, gpt2, gpt_neox and
        phi models; OPT has no llama.cpp architecture.
      </p>
      <div className="button-row">
        <button type="button" data-testid="export-gguf-f32" disabled={busy || fileBusy !== null} onClick={() => void saveGguf('F32')}>
          {fileBusy === 'gguf' ? 'Writing GGUF…' : 'GGUF (F32)'}
        </button>
        <button type="button" data-testid="export-gguf-f16" disabled={busy || fileBusy !== null} onClick={() => void saveGguf('F16')}>
          GGUF (F16)
        </button>
      </div>
      {ggufNotes.length ? (
        <ul className="muted small" data-testid="gguf-notes">
          {ggufNotes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      <details className="legacy-export">
        <summary>Legacy: compressed-tensors sparse-bitmask</summary>
        <p className="muted" data-testid="sparse-bitmask-legacy">
          Only the nonzero weights and a bitmask. compressed-tensors removed its sparse-bitmask compressor in 2026 and vLLM its 2:4 sparse
          kernels, and no 2026 transformers loads this format: it loads with compressed-tensors 0.14 or older (and the transformers and vLLM
          releases of that time). Prefer the Hugging Face folder above.
        </p>
        <button type="button" data-testid="export-compressed" disabled={reason !== null || exporting} onClick={() => void saveCompressedModel()}>
          Export compressed (sparse-bitmask, legacy)
        </button>
      </details>
      {status.status === 'done' ? (
        <p role="status" data-testid="export-status" data-files={status.files.join(',')}>
          {status.message}
        </p>
      ) : null}
      <p className="muted">
        Every run measured so far as a table (CSV, one row per run) or as JSON with the per-sublayer reports. Each pruned run in the table
        has an llm-compressor recipe (YAML) that repeats it on a larger model.
      </p>
      <div className="button-row">
        <button type="button" data-testid="export-csv" disabled={!hasRuns || fileBusy !== null} onClick={() => void saveResultsCsv()}>
          Results CSV
        </button>
        <button type="button" data-testid="export-json" disabled={!hasRuns || fileBusy !== null} onClick={() => void saveResultsJson()}>
          Results JSON
        </button>
      </div>
      {fileStatus ? (
        <p role="status" data-testid="file-export-status" data-kind={fileStatus.kind} data-files={fileStatus.files.join(',')}>
          {fileStatus.message}
        </p>
      ) : null}
      <ErrorAlert area="results" testId="results-error" />
    </div>
  );
}

export function ResultsPanel() {
  return (
    <section className="panel panel-results" aria-labelledby="results-heading" data-testid="results-panel">
      <h2 id="results-heading">Results</h2>
      <RunHistory />
      <LatestResult />
      <SweepChart />
      <RunsTable />
      <LayerChart />
      <LayerTable />
      <SpeedPanel />
      <ExportSection />
    </section>
  );
}
