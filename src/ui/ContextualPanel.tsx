// The Contextual (structured) pruning area: remove the MLP neurons and attention heads the domain
// text (the Data area's calibration text) uses least, a fraction of every layer or below a
// threshold on the score; then the perplexity on the domain (the Data area's evaluation text) and
// on a general text (the built-in sample) side by side, dense vs pruned; parameters and bytes
// before and after; and "Export smaller model". Only plain summaries reach this component.
import type { ContextualScoring } from '../core/prune/contextual';
import { useContextual, type ContextualResult } from '../store/contextual';
import { runContextual, saveSmallerModel } from '../store/contextual-actions';
import { weightsLabel } from '../store/eval-settings';
import { usePerplexity } from '../store/perplexity';
import { usePrune } from '../store/prune';
import { useCalibrationBlocker } from './blockers';
import { ErrorAlert } from './ErrorAlert';
import { formatBytes, formatInt, formatMetric, formatSeconds } from './format';
import { JobProgress, RunControls, useJobKind, submitTo } from './JobControls';
import { DECIMAL, InlineDecimal, NumberField, SelectField, fieldsOf } from './NumberField';
import { DataTable } from './Table';
import { Fact, Warnings } from './Fact';

/** Short labels for the select (a narrow column), long ones for the result. */
const SCORING_LABELS: Record<ContextualScoring, string> = { 'mean-abs': 'Mean |activation|', wanda: 'Wanda-style' };
const SCORING_LONG: Record<ContextualScoring, string> = {
  'mean-abs': 'mean |activation| (Mini-GPTs)',
  wanda: 'Wanda-style ‖W_col‖ · RMS activation',
};

function Settings({ disabled }: { disabled: boolean }) {
  const s = useContextual((st) => st.settings);
  const set = useContextual((st) => st.setSettings);
  const fraction = s.targetKind === 'fraction';
  const field = fieldsOf(s, set, disabled);
  return (
    <>
      <fieldset className="target" disabled={disabled}>
        <legend>What to remove</legend>
        <label className="radio">
          <input type="radio" name="ctx-kind" data-testid="ctx-kind-fraction" checked={fraction} onChange={() => set({ targetKind: 'fraction' })} />
          <span>The same fraction of every layer (exports a smaller model)</span>
        </label>
        <div className="target-row" aria-disabled={!fraction}>
          <InlineDecimal testId="ctx-fraction" label="Neurons removed per layer (%)" max={95} value={s.fractionPct} disabled={!fraction} onChange={(v) => set({ fractionPct: v })} />
          <span>% of the MLP neurons</span>
        </div>
        <label className="radio">
          <input type="radio" name="ctx-kind" data-testid="ctx-kind-threshold" checked={!fraction} onChange={() => set({ targetKind: 'threshold' })} />
          <span>Everything scoring below a threshold (uneven: exported as zeros)</span>
        </label>
        <div className="target-row" aria-disabled={fraction}>
          <InlineDecimal testId="ctx-threshold" label="Score threshold" value={s.threshold} disabled={fraction} onChange={(v) => set({ threshold: v })} />
          <span>score</span>
        </div>
      </fieldset>
      <div className="form-grid">
        {fraction ? (
          <NumberField
            {...field('headFractionPct', 'ctx-head-fraction')}
            {...DECIMAL}
            label={
              <>
                Heads removed per layer (%) <span className="muted">(blank: as neurons; 0: keep all)</span>
              </>
            }
            min={0}
            max={95}
            placeholder="as neurons"
          />
        ) : (
          <NumberField
            {...field('headThreshold', 'ctx-head-threshold')}
            {...DECIMAL}
            label={
              <>
                Head threshold <span className="muted">(blank: as neurons)</span>
              </>
            }
            min={0}
            placeholder="as neurons"
          />
        )}
        <SelectField id="ctx-scoring" label="Scoring" value={s.scoring} labels={SCORING_LABELS} disabled={disabled} onChange={(scoring) => set({ scoring })} />
      </div>
      <label className="check">
        <input
          type="checkbox"
          data-testid="ctx-zero-tokens"
          checked={s.zeroUnusedTokens}
          disabled={disabled}
          onChange={(e) => set({ zeroUnusedTokens: e.currentTarget.checked })}
        />
        <span>Zero the embedding rows of tokens the domain text never uses</span>
      </label>
    </>
  );
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`;

function Change({ dense, pruned }: { dense: number | null; pruned: number | null }) {
  if (dense === null || pruned === null) return <span className="muted">—</span>;
  const d = pruned / dense - 1;
  return <span className={d > 0 ? 'worse' : 'better'}>{`${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} %`}</span>;
}

function PplRow({ what, testId, dense, pruned, title }: { what: string; testId: string; dense: number | null; pruned: number | null; title: string }) {
  return (
    <tr data-testid={testId} data-dense={dense ?? ''} data-pruned={pruned ?? ''} title={title}>
      <th scope="row">{what}</th>
      <td className="num">{dense === null ? '—' : formatMetric(dense, 6)}</td>
      <td className="num">{pruned === null ? '—' : formatMetric(pruned, 6)}</td>
      <td className="num">
        <Change dense={dense} pruned={pruned} />
      </td>
    </tr>
  );
}

function ExportSmaller({ result }: { result: ContextualResult }) {
  const weights = usePrune((s) => s.weights);
  const busy = useJobKind() === 'contextual';
  const status = useContextual((s) => s.exportStatus);
  const exporting = status.status === 'exporting';
  const reason = busy ? 'Wait for the running job.' : weights?.method !== 'contextual' ? `The weights are now ${weightsLabel(weights)}: run contextual pruning again to export.` : null;
  const r = result.report;
  return (
    <div className="export">
      <p className="muted">
        {r.uniform
          ? 'Every layer removes alike: the export is a smaller Hugging Face model (smaller config, sliced tensors) that loads anywhere.'
          : 'The layers remove unevenly, which one config cannot express: the export keeps the shapes with zeros in place (see the warnings).'}
      </p>
      <div className="button-row">
        <button type="button" className="primary" data-testid="ctx-export" disabled={reason !== null || exporting} onClick={() => void saveSmallerModel()}>
          {exporting ? 'Exporting…' : 'Export smaller model'}
        </button>
        {reason ? <span className="muted">{reason}</span> : null}
      </div>
      {status.status === 'done' ? (
        <p role="status" data-testid="ctx-export-status" data-files={status.files.join(',')}>
          {status.message}
        </p>
      ) : null}
    </div>
  );
}

function Result() {
  const result = useContextual((s) => s.result);
  if (!result) return null;
  const r = result.report;
  const { before, after } = r.counts;
  const s = r.summary;
  const b = result.before;
  return (
    <div
      className="result ctx-result"
      data-testid="ctx-result"
      data-ppl-domain={result.pruned.domain ?? ''}
      data-ppl-general={result.pruned.general ?? ''}
      data-dense-domain={result.dense.domain ?? ''}
      data-dense-general={result.dense.general ?? ''}
      data-params-before={before.params}
      data-params-after={after.params}
      data-bytes-before={before.bytes}
      data-bytes-after={after.bytes}
      data-ffn={r.exported.ffn}
      data-heads={r.exported.heads}
      data-kv-heads={r.exported.kvHeads}
      data-uniform={String(r.uniform)}
      aria-live="polite"
    >
      <DataTable testId="ctx-ppl-table" caption="Perplexity, dense vs pruned: domain = the evaluation text, general = the built-in sample" cols={['Text', '#Dense', '#Pruned', '#Change']}>
        <PplRow what="Domain" testId="ctx-ppl-domain" dense={result.dense.domain} pruned={result.pruned.domain} title={result.domainLabel} />
        <PplRow what="General" testId="ctx-ppl-general" dense={result.dense.general} pruned={result.pruned.general} title={result.generalLabel} />
      </DataTable>
      <dl className="facts">
        <Fact label="Parameters" testId="ctx-params">{formatInt(before.params)} → {formatInt(after.params)} ({pct(1 - after.params / before.params)} fewer)</Fact>
        <Fact label="Weight bytes" testId="ctx-bytes">{formatBytes(before.bytes)} → {formatBytes(after.bytes)}</Fact>
        <Fact label="Architecture of the export" testId="ctx-architecture">FFN {b.ffn} → {r.exported.ffn}; heads {b.heads}/{b.kvHeads} → {r.exported.heads}/{r.exported.kvHeads} (query/KV)</Fact>
        <Fact label="MLP neurons removed" testId="ctx-neurons">{formatInt(s.neurons.removed)} of {formatInt(s.neurons.total)} ({pct(s.neurons.removed / s.neurons.total)})</Fact>
        <Fact label="Attention heads removed" testId="ctx-heads">{s.heads.removed} of {s.heads.total} (KV heads {s.kvHeads.removed} of {s.kvHeads.total})</Fact>
        {r.summary.tokens.removed > 0 ? (
          <Fact label="Token rows zeroed">{formatInt(s.tokens.removed)} of {formatInt(s.tokens.total)}</Fact>
        ) : null}
        <Fact label="Zeros in the linear layers">{pct(r.sparsity)}</Fact>
        <Fact label="Scoring, calibration">{SCORING_LONG[r.scoring]}; {result.calibLabel}</Fact>
        <Fact label="Time">{formatSeconds(r.seconds)} pruning, {formatSeconds(result.seconds)} in all</Fact>
      </dl>
      <details className="ctx-layers">
        <summary>Removed per layer</summary>
        <DataTable testId="ctx-layer-table" caption="Units removed in each decoder layer" cols={['Layer', '#Neurons', '#Heads', '#KV heads']}>
          {r.removed.map((l, i) => (
            <tr key={i} data-testid="ctx-layer-row">
              <td>{i}</td>
              <td className="num">{l.neurons}</td>
              <td className="num">{l.heads}</td>
              <td className="num">{l.kvHeads}</td>
            </tr>
          ))}
        </DataTable>
      </details>
      <Warnings warnings={r.warnings} testId="ctx-warnings" open />
      <ExportSmaller result={result} />
    </div>
  );
}

export function ContextualPanel() {
  const running = useJobKind() === 'contextual';
  const blocker = useCalibrationBlocker('contextual');
  const samples = usePrune((s) => s.settings.calibSamples);
  const seqlen = usePerplexity((s) => s.seqlenInput);
  const onSubmit = submitTo(runContextual);
  return (
    <section className="panel panel-contextual" aria-labelledby="contextual-heading" data-testid="contextual-panel">
      <h2 id="contextual-heading">Contextual (structured) pruning</h2>
      <p className="muted">
        Runs your domain text (the calibration text) through the dense model, scores every MLP neuron and attention head by how much the
        domain uses it, and removes the least used. The same fraction in every layer gives a genuinely smaller model.
      </p>
      {/* noValidate: out-of-range numbers get the named error next to the panel, not a browser bubble. */}
      <form className="method-form contextual-form" onSubmit={onSubmit} noValidate>
        <Settings disabled={running} />
        <p className="muted small" data-testid="ctx-calib">
          Calibration: {samples} × {seqlen} tokens of the calibration text (samples, sequence length and seed from the Method area). Perplexity
          on the evaluation text (domain) and on the built-in sample (general), with the Evaluate settings.
        </p>
        <RunControls kind="contextual" ids={{ run: 'ctx-run', cancel: 'ctx-cancel', blocker: 'ctx-blocker' }} label="Run contextual pruning" blocker={blocker} />
      </form>
      <JobProgress kind="contextual" />
      <ErrorAlert area="contextual" testId="ctx-error" />
      <Result />
    </section>
  );
}
