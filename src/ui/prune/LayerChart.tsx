// Per-sublayer chart of the selected run: achieved sparsity as bars (left axis, %) and the relative
// reconstruction error ‖WX − ŴX‖²/‖WX‖² as a line of points (right axis, log scale), in model
// order, so a layer that lost more than the others stands out. The table below gives the numbers.
import { memo, useDeferredValue, useMemo } from 'react';
import { Bar, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { selectedRun, usePrune } from '../../store/prune';
import { formatMetric } from '../format';

interface Row {
  name: string;
  /** "L3 mlp.down" */
  short: string;
  sparsityPct: number;
  relError: number;
}

export function layerRows(layers: Array<{ name: string; sparsity: number; rel_error: number }>): Row[] {
  return layers.map((l) => {
    const m = /^layers\.(\d+)\.(.*)$/.exec(l.name);
    return {
      name: l.name,
      short: m ? `L${m[1]} ${m[2]}` : l.name,
      sparsityPct: 100 * l.sparsity,
      // The log axis cannot show 0 (a sublayer left dense has no error).
      relError: Math.max(l.rel_error, 1e-9),
    };
  });
}

// Props of the chart hoisted out of the render: recharts 3 registers each axis, series and tooltip
// setting in its store from an effect, so a new object or function at each render means a removal,
// an addition and a synchronous re-render of the whole chart.
const MARGIN = { top: 8, right: 8, bottom: 8, left: 0 };
const PCT_DOMAIN = [0, 100];
const PCT_TICKS = [0, 25, 50, 75, 100];
const AUTO_DOMAIN = ['auto', 'auto'];
const DOT = { r: 2 };
const TOOLTIP_STYLE = { background: 'var(--panel)', border: '1px solid var(--border)' };
const formatError = (v: number) => formatMetric(v, 1);
const formatTooltip = (v: unknown, key: unknown): [string, string] => (key === 'sparsityPct' ? [`${Number(v).toFixed(2)} %`, 'sparsity'] : [formatMetric(Number(v), 3), 'rel. error']);
const formatLabel = (l: unknown) => String(l);

/** The chart itself, drawn again only when its rows change. */
const LayerPlot = memo(function LayerPlot({ rows }: { rows: Row[] }) {
  const xLabel = useMemo(() => ({ value: `${rows.length} sublayers in model order`, position: 'insideBottom' as const, fill: 'var(--muted)', fontSize: 12 }), [rows.length]);
  return (
    <ResponsiveContainer>
      <ComposedChart data={rows} margin={MARGIN}>
        <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
        <XAxis dataKey="short" tick={false} stroke="var(--muted)" label={xLabel} height={24} />
        <YAxis yAxisId="s" domain={PCT_DOMAIN} ticks={PCT_TICKS} unit="%" stroke="var(--muted)" fontSize={12} width={44} />
        <YAxis yAxisId="e" orientation="right" scale="log" domain={AUTO_DOMAIN} allowDataOverflow stroke="#d4691c" fontSize={12} width={52} tickFormatter={formatError} />
        <Tooltip formatter={formatTooltip} labelFormatter={formatLabel} contentStyle={TOOLTIP_STYLE} />
        <Bar yAxisId="s" dataKey="sparsityPct" fill="#0b62c4" fillOpacity={0.55} isAnimationActive={false} />
        <Line yAxisId="e" dataKey="relError" stroke="#d4691c" strokeWidth={1.5} dot={DOT} isAnimationActive={false} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});

const NO_ROWS: Row[] = [];

export function LayerChart() {
  // Deferred: during a sweep the latest run changes at every point; render the chart in the background.
  const run = useDeferredValue(usePrune((s) => selectedRun(s)));
  const rows = useMemo(() => (run?.layers.length ? layerRows(run.layers) : NO_ROWS), [run]);
  // Always mounted, empty until a run has per-sublayer figures: mounting a recharts chart is a long
  // main-thread task, better spent at start-up than when the first point of a sweep arrives.
  return (
    <figure className="layer-chart" data-testid="layer-chart" data-count={rows.length} data-run-id={run && rows.length ? run.id : undefined} aria-labelledby="layer-chart-caption">
      <figcaption id="layer-chart-caption" className="muted">
        {run && rows.length
          ? `Run ${run.id} (${run.label}): sparsity per sublayer (bars, left) and relative reconstruction error (line, right, log scale)`
          : 'Per sublayer: sparsity (bars, left) and relative reconstruction error (line, right, log scale)'}
      </figcaption>
      <div className="layer-chart-box">
        {rows.length === 0 ? <p className="muted chart-empty">Prune the model: the selected run&apos;s sparsity and error per sublayer appear here.</p> : null}
        <LayerPlot rows={rows} />
      </div>
    </figure>
  );
}
