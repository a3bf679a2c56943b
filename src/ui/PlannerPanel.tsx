// The compute planner: the loaded model on the Chinchilla scaling-law map, and what pruning
// changes at inference. Both published fits are computed side by side (the selected one drives the
// chart); every number sits next to its formula. The formulas are in src/core/plan, the choice of
// their inputs in src/store/planner.ts; this file only lays them out.
import { memo, type ReactNode, useId, useMemo, useDeferredValue } from 'react';
import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { ScatterShapeProps } from 'recharts/types/util/ScatterUtils';
import { CHINCHILLA_TOKENS_PER_PARAM, type FitId, FITS, whereModelSits } from '../core/plan/chinchilla';
import { weightsLabel } from '../store/eval-settings';
import { useModel } from '../store/model';
import { plannerView, usePlanner, type ChartView, type FitView, type InferenceView, type PlannerView } from '../store/planner';
import { usePrune } from '../store/prune';
import { useSpeed } from '../store/speed';
import { useTrain } from '../store/train';
import { formatBytes, formatInt, formatMetric } from './format';
import { NumberField } from './NumberField';
import './planner.css';
import { DataTable, Head } from './Table';
import { useShallow } from 'zustand/react/shallow';
import { CHART_MARGIN, NUMBER_AXIS, xTitle, yTitle } from './chart-style';

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** 3.219e10 → "3.219 × 10¹⁰"; numbers below a million in full ("682,496"), small ones with 4 digits. */
function sci(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1 && a < 1e6 && Number.isInteger(x)) return formatInt(x);
  if (a >= 1e-3 && a < 1e6) return formatMetric(x, digits);
  const [m, e] = x.toExponential(digits - 1).split('e');
  const exp = String(Number(e)).replace(/./g, (c) => SUPERSCRIPT[c] ?? c);
  return `${Number(m)} × 10${exp}`;
}

/** Axis ticks: 1e21 → "1e21". */
const decadeTick = (v: number) => `1e${Math.round(Math.log10(v))}`;

const FIT_COLORS: Record<FitId, string> = { hoffmann2022: '#0b62c4', epoch2024: '#d4691c' };
const MODEL_COLOR = '#1a7f37';
const BUDGET_COLOR = '#8250df';

function F({ children }: { children: ReactNode }) {
  return <code className="planner-formula">{children}</code>;
}

function FieldError({ id, error }: { id: string; error: string | null }) {
  if (!error) return null;
  return (
    <p id={id} className="planner-field-error span-all" role="alert">
      {error}
    </p>
  );
}

function Controls({ view }: { view: PlannerView }) {
  const budget = usePlanner((s) => s.budget);
  const ctx = usePlanner((s) => s.ctx);
  const set = usePlanner((s) => s.set);
  const setTokens = usePlanner((s) => s.setTokens);
  const resetTokens = usePlanner((s) => s.resetTokens);
  const modelName = view.model?.name ?? null;
  const known = view.tokens.known;
  return (
    <div className="planner-controls">
      <fieldset className="planner-fits" data-testid="planner-fit">
        <legend>Scaling-law fit (chart and headline; the tables show both)</legend>
        {FITS.map((f) => (
          <label key={f.id} className="radio" title={f.source}>
            <input
              type="radio"
              name="planner-fit"
              value={f.id}
              data-testid={`planner-fit-${f.id}`}
              checked={view.fit.id === f.id}
              onChange={() => set({ fitId: f.id })}
            />
            <span>
              {f.label}{' '}
              <span className="muted small">
                E {f.E}, A {f.A}, B {f.B}, α {f.alpha}, β {f.beta} — {f.source}
              </span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="form-grid planner-grid">
        <label htmlFor="planner-budget" title="Training compute in FLOPs, e.g. 1e21 or 5.76e23 (Chinchilla's)">
          Compute budget C (FLOPs)
        </label>
        <input
          id="planner-budget"
          data-testid="planner-budget"
          type="text"
          inputMode="decimal"
          spellCheck={false}
          value={budget}
          aria-invalid={view.budgetError ? true : undefined}
          aria-describedby={view.budgetError ? 'planner-budget-error' : undefined}
          onChange={(e) => set({ budget: e.currentTarget.value })}
        />
        <FieldError id="planner-budget-error" error={view.budgetError} />
        <label htmlFor="planner-tokens" title="Tokens the model was trained on, e.g. 300B or 6.5e9">
          Training tokens D
        </label>
        <input
          id="planner-tokens"
          data-testid="planner-tokens"
          type="text"
          inputMode="decimal"
          spellCheck={false}
          placeholder={modelName ? 'e.g. 300B' : 'load a model'}
          disabled={!modelName}
          value={view.tokens.text}
          aria-invalid={view.tokens.error ? true : undefined}
          aria-describedby="planner-tokens-note"
          onChange={(e) => modelName && setTokens(modelName, e.currentTarget.value)}
        />
        <p id="planner-tokens-note" className="span-all muted" data-testid="planner-tokens-source" data-source={view.tokens.source}>
          {view.tokens.error ? (
            <span className="planner-field-error" role="alert">
              {view.tokens.error}
            </span>
          ) : view.tokens.source === 'model card' && known ? (
            <>From the model card: {known.source}. {known.note}</>
          ) : view.tokens.source === 'entered' ? (
            <>
              Entered by you.{' '}
              {known?.tokens != null ? (
                <button type="button" className="link-button" data-testid="planner-tokens-reset" onClick={resetTokens}>
                  Use the model card&apos;s value
                </button>
              ) : null}
            </>
          ) : modelName ? (
            <>
              {known?.note ?? 'The training tokens of this model are not in the table of known model cards.'} Enter them to place the model on the
              map.
            </>
          ) : (
            'Load a model to place it on the map.'
          )}
        </p>
        <NumberField
          id="planner-ctx"
          testId="planner-ctx"
          label={
            <>
              Context length <var>n</var>
              <sub>ctx</sub> (attention term)
            </>
          }
          title="Positions attended to per token in the attention FLOPs"
          min={1}
          value={ctx}
          onChange={(v) => set({ ctx: v })}
        />
        <FieldError id="planner-ctx-error" error={view.ctxError} />
      </div>
    </div>
  );
}

/** Quantity, formula, then one numeric column per fit. */
function FitHead() {
  return (
    <thead>
      <tr>
        <th scope="col">Quantity</th>
        <th scope="col">Formula</th>
        {FITS.map((f) => (
          <th key={f.id} scope="col" className="num" title={f.source}>
            {f.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A table row with one value per fit; data-* carry the raw numbers for tests. */
function FitRow({ testId, label, formula, fits, value, format = sci }: { testId: string; label: ReactNode; formula: ReactNode; fits: FitView[]; value: (f: FitView) => number | null | undefined; format?: (x: number) => string }) {
  const attrs: Record<string, string> = {};
  for (const f of fits) {
    const v = value(f);
    if (v !== null && v !== undefined) attrs[`data-${f.fit.id}`] = String(v);
  }
  return (
    <tr data-testid={testId} {...attrs}>
      <th scope="row">{label}</th>
      <td>
        <F>{formula}</F>
      </td>
      {fits.map((f) => {
        const v = value(f);
        return (
          <td key={f.fit.id} className="num">
            {v === null || v === undefined ? '—' : format(v)}
          </td>
        );
      })}
    </tr>
  );
}

function BudgetTable({ view }: { view: PlannerView }) {
  const fits = view.fits;
  return (
    <DataTable
      testId="planner-budget-table"
      className="planner-table"
      caption={<>Compute-optimal allocation of C = {view.budget === null ? '—' : sci(view.budget)} FLOPs (minimise L subject to C = 6ND)</>}
      head={<FitHead />}
    >
      <FitRow testId="planner-g" label="G" formula="G = (αA / (βB))^(1/(α+β))" fits={fits} value={(f) => f.budget?.G} format={(x) => formatMetric(x, 6)} />
      <FitRow testId="planner-nopt" label="Parameters N_opt" formula="N_opt = G · (C/6)^(β/(α+β))" fits={fits} value={(f) => f.budget?.N} />
      <FitRow testId="planner-dopt" label="Tokens D_opt" formula="D_opt = G⁻¹ · (C/6)^(α/(α+β))" fits={fits} value={(f) => f.budget?.D} />
      <FitRow testId="planner-ratio" label="Tokens per parameter" formula="D_opt / N_opt" fits={fits} value={(f) => f.budget?.tokensPerParam} format={(x) => formatMetric(x, 4)} />
      <FitRow testId="planner-lopt" label="Loss L(N_opt, D_opt)" formula="E + A/N^α + B/D^β" fits={fits} value={(f) => f.budget?.loss} format={(x) => formatMetric(x, 5)} />
    </DataTable>
  );
}

function ModelTable({ view }: { view: PlannerView }) {
  const fits = view.fits;
  if (!view.model) return <p className="muted">Load a model to see where it sits.</p>;
  if (view.tokens.value === null) {
    return (
      <p className="muted" data-testid="planner-model-unknown">
        {view.model.name}: N = {sci(view.model.N)} parameters. Its training tokens D are unknown: enter them above to place it on the map.
      </p>
    );
  }
  const m = (f: FitView) => f.model;
  return (
    <div className="table-wrap">
      <table className="data-table planner-table" data-testid="planner-model-table">
        <caption>
          Where {view.model.name} sits: N = {sci(view.model.N)} parameters, D = {sci(view.tokens.value)} tokens ({view.tokens.source})
        </caption>
        <FitHead />
        <tbody>
          <FitRow testId="planner-model-compute" label="Training compute" formula="C = 6 · N · D" fits={fits} value={(f) => m(f)?.compute} />
          <FitRow testId="planner-model-loss" label="Predicted loss" formula="L(N, D) = E + A/N^α + B/D^β" fits={fits} value={(f) => m(f)?.loss.total} format={(x) => formatMetric(x, 5)} />
          <FitRow testId="planner-model-terms" label="… model term" formula="A / N^α" fits={fits} value={(f) => m(f)?.loss.params} format={(x) => formatMetric(x, 4)} />
          <FitRow testId="planner-model-data-term" label="… data term" formula="B / D^β" fits={fits} value={(f) => m(f)?.loss.data} format={(x) => formatMetric(x, 4)} />
          <FitRow testId="planner-model-nopt" label="Optimal N for that compute" formula="N_opt(6ND)" fits={fits} value={(f) => m(f)?.optimal.N} />
          <FitRow testId="planner-model-dopt" label="Optimal D for that compute" formula="D_opt(6ND)" fits={fits} value={(f) => m(f)?.optimal.D} />
          <FitRow testId="planner-model-size" label="Size vs optimal" formula="N / N_opt" fits={fits} value={(f) => m(f)?.sizeVsOptimal} format={(x) => `${formatMetric(x, 3)}×`} />
          <FitRow testId="planner-model-excess" label="Loss above the optimum" formula="L(N, D) − L(N_opt, D_opt)" fits={fits} value={(f) => m(f)?.excessLoss} format={(x) => formatMetric(x, 3)} />
        </tbody>
      </table>
      {fits[0].model ? (
        <p className="small" data-testid="planner-model-rule" data-tokens-per-param={String(fits[0].model.tokensPerParam)}>
          <F>D / N</F> = {formatMetric(fits[0].model.tokensPerParam, 6)} tokens per parameter; <F>(D/N) / {CHINCHILLA_TOKENS_PER_PARAM}</F> ={' '}
          {formatMetric(fits[0].model.vsRule, 5)}× Chinchilla&apos;s ~{CHINCHILLA_TOKENS_PER_PARAM} tokens per parameter (
          {fits[0].model.vsRule > 1 ? 'trained past compute-optimal: a smaller, cheaper model to serve' : 'fewer tokens than compute-optimal'}).
        </p>
      ) : null}
    </div>
  );
}

/**
 * The Train area's dense-twin comparison on the selected fit's map: each model at N = its non-zero
 * parameters (the GMP model's pruned weights cost nothing at inference) and D = the tokens it saw.
 */
function TwinPlacement({ fit }: { fit: PlannerView['fit'] }) {
  const t = useTrain((s) => s.twin);
  if (!t) return null;
  const rows = [
    ['planner-twin-sparse', `GMP to ${(t.sparse.result.sparsity * 100).toFixed(0)} % (${t.sparse.params.toLocaleString('en-US')} parameters)`, t.sparse],
    ['planner-twin-dense', 'Dense twin', t.dense],
  ] as const;
  return (
    <div className="table-wrap">
      <table className="data-table planner-table" data-testid="planner-twin-table">
        <caption>Trained from scratch in the Train area: GMP and its dense twin, each at N = its non-zero parameters, on {fit.label}</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">N (non-zero)</th>
            <th scope="col">D (tokens)</th>
            <th scope="col">C = 6ND</th>
            <th scope="col">D / N</th>
            <th scope="col">Size vs optimal</th>
            <th scope="col">Fit&apos;s L(N, D)</th>
            <th scope="col">Measured held-out ln(perplexity)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([id, label, s]) => {
            const pos = whereModelSits(s.nonzeros, s.result.tokens, fit);
            return (
              <tr key={id} data-testid={id} data-n={s.nonzeros} data-d={s.result.tokens} data-compute={pos.compute}>
                <th scope="row">{label}</th>
                <td>{sci(s.nonzeros)}</td>
                <td>{sci(s.result.tokens)}</td>
                <td>{sci(pos.compute)}</td>
                <td>{formatMetric(pos.tokensPerParam, 4)}</td>
                <td>{formatMetric(pos.sizeVsOptimal, 3)}×</td>
                <td>{formatMetric(pos.loss.total, 5)}</td>
                <td>{s.result.ppl === null ? '—' : formatMetric(Math.log(s.result.ppl), 5)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="small muted">
        Both sit at the same N, D and compute by construction, so the fit predicts the same loss for both: what differs is the measured perplexity (on this
        text and tokenizer, not the fit&apos;s).
      </p>
    </div>
  );
}

const NO_MARK = () => <g />;

function PointMark(props: ScatterShapeProps & { kind: 'model' | 'budget' }) {
  const { cx, cy, kind } = props;
  if (cx === undefined || cy === undefined) return <g />;
  if (kind === 'model') return <circle data-testid="planner-model-point" cx={cx} cy={cy} r={6} fill={MODEL_COLOR} stroke="#ffffff" strokeWidth={1} />;
  const r = 7;
  return <path data-testid="planner-budget-point" d={`M${cx},${cy - r}L${cx + r},${cy}L${cx},${cy + r}L${cx - r},${cy}Z`} fill={BUDGET_COLOR} stroke="#ffffff" strokeWidth={1} />;
}
const CURSOR = { strokeDasharray: '3 3' };
const ModelMark = (p: ScatterShapeProps) => <PointMark {...p} kind="model" />;
const BudgetMark = (p: ScatterShapeProps) => <PointMark {...p} kind="budget" />;

function TooltipBody({ active, payload }: { active?: boolean; payload?: ReadonlyArray<{ payload?: unknown }> }) {
  const p = active ? (payload?.[0]?.payload as { C: number; N: number } | undefined) : undefined;
  if (!p) return null;
  return (
    <div className="chart-tooltip">
      <div>C = {sci(p.C)} FLOPs</div>
      <div>N = {sci(p.N)} parameters</div>
    </div>
  );
}

// Drawn again only when the plotted numbers change: the view is recomputed at each sweep point
// (the inference table follows the runs), the frontier does not, and every render of a recharts
// chart re-registers all its axes and series.
const FrontierChart = memo(
  function FrontierChart({ chart: c }: { chart: ChartView }) {
    const captionId = useId();
    return (
      <figure className="planner-chart" data-testid="planner-chart" aria-labelledby={captionId}>
        <figcaption id={captionId}>
          <strong>Compute-optimal frontier</strong> <F>N_opt(C)</F>, log–log, with the model (<F>C = 6ND</F>, N) and the budget
        </figcaption>
        <div className="chart-box">
          <ResponsiveContainer width="100%" height={260}>
            <ScatterChart margin={CHART_MARGIN}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis {...NUMBER_AXIS} dataKey="C" name="compute" scale="log" domain={c.xDomain} ticks={c.xTicks} tickFormatter={decadeTick} label={xTitle('training compute C (FLOPs)')} />
              <YAxis
                {...NUMBER_AXIS}
                dataKey="N"
                name="parameters"
                scale="log"
                domain={c.yDomain}
                ticks={c.yTicks}
                width={52}
                tickFormatter={decadeTick}
                label={yTitle('parameters N', 40)}
              />
              <Tooltip content={TooltipBody} cursor={CURSOR} isAnimationActive={false} />
              {c.series.map((s) => (
                <Scatter
                  key={s.fit}
                  name={s.label}
                  data={s.points}
                  fill={FIT_COLORS[s.fit]}
                  line={{ stroke: FIT_COLORS[s.fit], strokeWidth: s.selected ? 2.5 : 1.5, strokeDasharray: s.selected ? undefined : '6 4' }}
                  shape={NO_MARK}
                  isAnimationActive={false}
                />
              ))}
              {c.budgetPoint ? <Scatter name="Budget" data={[c.budgetPoint]} fill={BUDGET_COLOR} shape={BudgetMark} isAnimationActive={false} /> : null}
              {c.modelPoint ? <Scatter name="Model" data={[c.modelPoint]} fill={MODEL_COLOR} shape={ModelMark} isAnimationActive={false} /> : null}
            </ScatterChart>
          </ResponsiveContainer>
        </div>
        <ul className="chart-legend" aria-label="Legend">
          {c.series.map((s) => (
            <li key={s.fit}>
              <svg width="22" height="8" aria-hidden="true">
                <line x1="1" y1="4" x2="21" y2="4" stroke={FIT_COLORS[s.fit]} strokeWidth={s.selected ? 2.5 : 1.5} strokeDasharray={s.selected ? undefined : '6 4'} />
              </svg>
              {s.label}
            </li>
          ))}
          <li>
            <svg width="14" height="14" aria-hidden="true">
              <path d="M7,1L13,7L7,13L1,7Z" fill={BUDGET_COLOR} />
            </svg>
            budget (C, N_opt)
          </li>
          <li>
            <svg width="12" height="12" aria-hidden="true">
              <circle cx="6" cy="6" r="5" fill={MODEL_COLOR} />
            </svg>
            {c.modelPoint ? 'the model (6ND, N)' : 'the model (needs D)'}
          </li>
        </ul>
      </figure>
    );
  },
  (a, b) => JSON.stringify(a.chart) === JSON.stringify(b.chart),
);

function InferenceTable({ inf, ctx }: { inf: InferenceView; ctx: number | null }) {
  if (inf.error || !inf.shape) return <p className="muted">The FLOPs formulas need the model&apos;s shape: {inf.error}</p>;
  const s = inf.shape;
  const p = inf.pruned;
  const row = (testId: string, label: ReactNode, formula: ReactNode, dense: ReactNode, pruned: ReactNode, raw?: { dense?: number; pruned?: number }) => (
    <tr data-testid={testId} data-dense={raw?.dense !== undefined ? String(raw.dense) : undefined} data-pruned={raw?.pruned !== undefined ? String(raw.pruned) : undefined}>
      <th scope="row">{label}</th>
      <td>
        <F>{formula}</F>
      </td>
      <td className="num">{dense}</td>
      <td className="num">{pruned}</td>
    </tr>
  );
  const ratio = inf.dense && inf.sparse ? inf.sparse.total / inf.dense.total : null;
  return (
    <div className="table-wrap">
      <table className="data-table planner-table" data-testid="planner-inference-table">
        <caption>
          Per generated token{ctx !== null ? <> at n_ctx = {formatInt(ctx)}</> : null}: {s.layers} layers, d = {s.hidden}, {s.heads} heads × {s.headDim}
          {s.kvHeads !== s.heads ? <> ({s.kvHeads} KV heads)</> : null}, FFN {s.ffn}
          {s.gatedMlp ? ' gated' : ''}, vocabulary {formatInt(s.vocab)}
        </caption>
        <Head cols={['Quantity', 'Formula', '#Dense', { num: p ? 'Pruned (nonzeros)' : 'Pruned' }]} />
        <tbody>
          {row('planner-linear', 'Decoder linear weights', p ? 'W_linear = n_layer · (q + k + v + o + MLP); nnz = W_linear − zeros' : 'W_linear = n_layer · (q + k + v + o + MLP)', sci(inf.linearWeights), p ? sci(p.nonzeros) : '—', {
            dense: inf.linearWeights,
            pruned: p?.nonzeros,
          })}
          {row(
            'planner-flops-linear',
            'Linear FLOPs',
            p ? '2 · W_linear; 2 · nnz' : '2 · W_linear',
            inf.dense ? sci(inf.dense.linear) : '—',
            inf.sparse ? sci(inf.sparse.linear) : '—',
            { dense: inf.dense?.linear, pruned: inf.sparse?.linear },
          )}
          {row('planner-flops-head', 'LM head FLOPs (not pruned)', '2 · V · E', inf.dense ? sci(inf.dense.head) : '—', inf.sparse ? sci(inf.sparse.head) : '—')}
          {row(
            'planner-flops-attn',
            'Attention FLOPs (not pruned)',
            '2 · n_layer · n_ctx · d_attn',
            inf.dense ? sci(inf.dense.attention) : '—',
            inf.sparse ? sci(inf.sparse.attention) : '—',
          )}
          {row(
            'planner-flops',
            <strong>FLOPs per token</strong>,
            'sum of the three',
            inf.dense ? <strong>{sci(inf.dense.total)}</strong> : '—',
            inf.sparse ? (
              <strong>
                {sci(inf.sparse.total)} <span className="muted sub">({formatMetric(ratio! * 100, 3)} %)</span>
              </strong>
            ) : (
              '—'
            ),
            { dense: inf.dense?.total, pruned: inf.sparse?.total },
          )}
          {inf.bytes
            ? row('planner-bytes-values', 'Weight bytes, values only', '(params − zeros) · b', formatBytes(inf.bytes.dense), formatBytes(inf.bytes.nonzeroValues), {
                dense: inf.bytes.dense,
                pruned: inf.bytes.nonzeroValues,
              })
            : row('planner-bytes-values', 'Weight bytes', 'params · b', formatBytes(inf.params * inf.bytesPerValue), '—', { dense: inf.params * inf.bytesPerValue })}
          {inf.bytes
            ? row(
                'planner-bytes',
                <>
                  Weight bytes with the format&apos;s indices{' '}
                  <span className="muted small">({inf.bytes.overheadSource === 'measured' ? 'measured in Speed & size' : 'bitmask estimate'})</span>
                </>,
                '(params − zeros) · b + overhead',
                formatBytes(inf.bytes.dense),
                <>
                  {formatBytes(inf.bytes.sparse)} <span className="muted sub">(+{formatBytes(inf.bytes.overhead)})</span>
                </>,
                { dense: inf.bytes.dense, pruned: inf.bytes.sparse },
              )
            : null}
          {inf.speed
            ? row(
                'planner-tps',
                'Decode tokens/s (measured)',
                'Speed & size, greedy, KV cache',
                formatMetric(inf.speed.denseTokensPerS, 3),
                <>
                  {formatMetric(inf.speed.sparseTokensPerS, 3)}{' '}
                  <span className="muted sub">({formatMetric(inf.speed.sparseTokensPerS / inf.speed.denseTokensPerS, 3)}×)</span>
                </>,
                { dense: inf.speed.denseTokensPerS, pruned: inf.speed.sparseTokensPerS },
              )
            : null}
        </tbody>
      </table>
      <p className="small muted">
        b = {formatMetric(inf.bytesPerValue, 3)} bytes per stored value (file bytes / parameters). Kaplan et al. 2020&apos;s convention:{' '}
        <F>C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn</F> (a multiply-add is 2 FLOPs; the attention term is the QKᵀ scores), with the LM head{' '}
        <F>2·V·E</F> counted separately; embeddings, norms and the head are never pruned.
        {p ? (
          <>
            {' '}
            Pruned: {p.label}, {p.source === 'per-sublayer' ? 'nonzeros from the run report, sublayer by sublayer' : 'the overall sparsity spread over every linear (approximate)'}.
          </>
        ) : (
          ' The weights are dense: prune to see what the zeros change.'
        )}
      </p>
      {inf.speed ? (
        <p className="small" data-testid="planner-speed" data-stale={String(inf.speed.stale)}>
          Measured on {inf.speed.adapter} over {inf.speed.tokens} decoded tokens.
          {inf.speed.stale ? <span className="worse"> Measured for other weights than the current ones; measure again in Speed &amp; size.</span> : null}{' '}
          Fewer FLOPs turn into speed only when a sparse kernel beats the dense one on this GPU.
        </p>
      ) : (
        <p className="small muted" data-testid="planner-speed-none">
          Decode tokens/s: measure in Speed &amp; size.
        </p>
      )}
    </div>
  );
}

export function PlannerPanel() {
  const { budget, fitId, tokens, tokensModel, ctx } = usePlanner(useShallow((s) => ({ budget: s.budget, fitId: s.fitId, tokens: s.tokens, tokensModel: s.tokensModel, ctx: s.ctx })));
  const model = useModel((s) => s.summary);
  // Deferred: a sweep changes these at every point; the planner (and its chart) re-renders in the
  // background, interruptibly, so it never adds a long task to the main thread.
  const weights = useDeferredValue(usePrune((s) => s.weights));
  const runs = useDeferredValue(usePrune((s) => s.runs));
  const speed = useSpeed((s) => s.result);
  const view = useMemo(
    () => plannerView({ settings: { budget, fitId, tokens, tokensModel, ctx }, model, weights, runs, speed, weightsLabel: weightsLabel(weights) }),
    [budget, fitId, tokens, tokensModel, ctx, model, weights, runs, speed],
  );
  return <PlannerBody view={view} />;
}

/** The panel for a computed view (the controls still edit the planner store). */
export function PlannerBody({ view }: { view: PlannerView }) {
  const selected = view.fits.find((f) => f.fit.id === view.fit.id)!;
  return (
    <section className="panel panel-planner" aria-labelledby="planner-heading" data-testid="planner-panel">
      <h2 id="planner-heading">Compute planner</h2>
      <p className="muted">
        The Chinchilla scaling law <F>L(N, D) = E + A/N^α + B/D^β</F> with training compute <F>C ≈ 6ND</F>: the compute-optimal model for a budget, where
        the loaded model sits, and what pruning changes at inference. Both fits were made on DeepMind&apos;s MassiveText with its tokenizer: the
        absolute losses do not carry over to other data or vocabularies; the allocation (tokens per parameter) roughly does.
      </p>
      <Controls view={view} />
      {selected.budget ? (
        <p className="planner-headline" data-testid="planner-headline" data-nopt={String(selected.budget.N)} data-dopt={String(selected.budget.D)}>
          With {sci(view.budget!)} FLOPs, {view.fit.label}: train <strong>{sci(selected.budget.N)}</strong> parameters on{' '}
          <strong>{sci(selected.budget.D)}</strong> tokens ({formatMetric(selected.budget.tokensPerParam, 3)} tokens per parameter).
        </p>
      ) : null}
      <BudgetTable view={view} />
      <h3>Where the model sits</h3>
      <ModelTable view={view} />
      <TwinPlacement fit={view.fit} />
      <FrontierChart chart={view.chart} />
      <h3>What pruning changes at inference</h3>
      {view.inference ? <InferenceTable inf={view.inference} ctx={view.ctx} /> : <p className="muted">Load a model to count its FLOPs per token.</p>}
    </section>
  );
}
