// Sparsity vs perplexity: one series per method, N:M points as diamonds, the dense point as a
// square with a dashed reference line. Every point is an SVG <g data-testid="sweep-point"> with
// data-method / data-sparsity / data-ppl, so tests can count and read them. Updates are throttled.
import { memo, useCallback, useDeferredValue, useMemo, useRef, useState, type RefObject } from 'react';
import { CartesianGrid, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { ScatterShapeProps } from 'recharts/types/util/ScatterUtils';
import { METHODS } from '../../core/prune/types';
import { selectRun } from '../../store/prune-actions';
import { METHOD_LABELS, usePrune } from '../../store/prune';
import { useFileExports } from '../../store/export-actions';
import { useModel } from '../../store/model';
import { formatMetric } from '../format';
import { useThrottled } from '../hooks';
import { chartData, yAxis, type ChartPoint, type ChartData } from './chart-data';
import { saveChart, type LegendEntry } from './chart-export';
import { useJobKind } from '../JobControls';
import { CHART_MARGIN, NUMBER_AXIS, xTitle, yTitle } from '../chart-style';

export const METHOD_COLORS: Record<ChartPoint['method'], string> = {
  magnitude: '#8250df',
  wanda: '#d4691c',
  sparsegpt: '#0b62c4',
  sparsellm: '#1a7f37',
  dense: '#57606a',
  trained: '#bf3989',
};

/** Chart updates at most this often while points stream in. */
const THROTTLE_MS = 250;

const NONE: ChartPoint[] = [];
const X_TICKS = [0, 20, 40, 60, 80, 100];
const X_DOMAIN = [0, 100];
const CURSOR = { strokeDasharray: '3 3' };
const X_LABEL = xTitle('achieved sparsity (% zeros in pruned layers)');
const Y_LABEL = yTitle('perplexity', 30);
const LINES = Object.fromEntries(Object.entries(METHOD_COLORS).map(([m, c]) => [m, { stroke: c, strokeWidth: 1.5 }])) as Record<ChartPoint['method'], { stroke: string; strokeWidth: number }>;
const formatTick = (v: number) => formatMetric(v, 3);
const LINK_LINE = { stroke: METHOD_COLORS.trained, strokeWidth: 1.2, strokeDasharray: '4 3' };
const NO_MARK = () => <g />;

function PointShape(props: ScatterShapeProps & { selectedId: number | null }) {
  const { cx, cy, payload, selectedId } = props;
  if (cx === undefined || cy === undefined || !payload) return <g />;
  const p = payload as ChartPoint;
  const color = METHOD_COLORS[p.method];
  const selected = p.runId !== null && p.runId === selectedId;
  let mark;
  if (p.method === 'dense') {
    mark = <rect x={cx - 5.5} y={cy - 5.5} width={11} height={11} fill={color} stroke="#ffffff" strokeWidth={1} />;
  } else if (p.method === 'trained') {
    const r = 7;
    mark = <path d={`M${cx},${cy - r}L${cx + r},${cy + r * 0.75}L${cx - r},${cy + r * 0.75}Z`} fill={color} stroke="#ffffff" strokeWidth={1} />;
  } else if (p.nm) {
    const r = 7;
    mark = <path d={`M${cx},${cy - r}L${cx + r},${cy}L${cx},${cy + r}L${cx - r},${cy}Z`} fill="#ffffff" stroke={color} strokeWidth={2.5} />;
  } else {
    mark = <circle cx={cx} cy={cy} r={5} fill={color} stroke="#ffffff" strokeWidth={1} />;
  }
  return (
    <g
      data-testid="sweep-point"
      data-method={p.method}
      data-target={p.label}
      data-nm={p.nm ? 'true' : 'false'}
      data-sparsity={String(p.sparsity)}
      data-ppl={String(p.ppl)}
      data-run-id={p.runId ?? undefined}
      className="sweep-point"
      style={{ cursor: p.runId !== null ? 'pointer' : undefined }}
      onClick={() => p.runId !== null && selectRun(p.runId)}
    >
      {selected ? <circle cx={cx} cy={cy} r={10} fill="none" stroke={color} strokeWidth={1.5} strokeDasharray="2 2" /> : null}
      {mark}
      <title>{`${p.label}: ${(p.sparsity * 100).toFixed(1)}% zeros, perplexity ${formatMetric(p.ppl, 6)}`}</title>
    </g>
  );
}

function TooltipBody({ active, payload }: { active?: boolean; payload?: ReadonlyArray<{ payload?: unknown }> }) {
  const p = active ? (payload?.[0]?.payload as ChartPoint | undefined) : undefined;
  if (!p) return null;
  return (
    <div className="chart-tooltip">
      <strong>{p.label}</strong>
      <div>{(p.sparsity * 100).toFixed(2)} % zeros</div>
      <div>perplexity {formatMetric(p.ppl, 6)}</div>
    </div>
  );
}

/** The legend of the exported image: the methods plotted, N:M and dense where present. */
function legendOf(data: ChartData): LegendEntry[] {
  const out: LegendEntry[] = data.series.filter((x) => x.unstructured.length).map((x) => ({ label: METHOD_LABELS[x.method], color: METHOD_COLORS[x.method], shape: 'circle' }));
  for (const x of data.series) if (x.nm.length) out.push({ label: `${METHOD_LABELS[x.method]} N:M`, color: METHOD_COLORS[x.method], shape: 'diamond' });
  if (data.dense) out.push({ label: 'dense', color: METHOD_COLORS.dense, shape: 'square' });
  if (data.trained.length) out.push({ label: 'trained (from the point its weights came from)', color: METHOD_COLORS.trained, shape: 'triangle' });
  return out;
}

/** Save-as-SVG and save-as-PNG buttons for the chart drawn in `box`. */
function ChartExportButtons({ data, box }: { data: ChartData; box: RefObject<HTMLDivElement | null> }) {
  const busy = useFileExports((s) => s.busy);
  const model = useModel((s) => s.summary?.name ?? 'model');
  const save = (format: 'svg' | 'png') => {
    if (!box.current) return;
    void saveChart(format, box.current, {
      title: `Sparsity vs perplexity · ${model}`,
      subtitle: data.evalLabel ? `Perplexity: ${data.evalLabel}` : undefined,
      legend: legendOf(data),
      baseName: model.replace(/[^A-Za-z0-9._-]+/g, '_'),
    });
  };
  const disabled = data.count === 0 || busy !== null;
  return (
    <span className="button-row chart-export">
      <button type="button" className="small" data-testid="chart-save-svg" disabled={disabled} onClick={() => save('svg')} title="Save the chart as an SVG file">
        {busy === 'svg' ? 'Saving…' : 'SVG'}
      </button>
      <button type="button" className="small" data-testid="chart-save-png" disabled={disabled} onClick={() => save('png')} title="Save the chart as a PNG image (2×)">
        {busy === 'png' ? 'Saving…' : 'PNG'}
      </button>
    </span>
  );
}

/**
 * The recharts tree, drawn again only when what it shows changes: recharts 3 re-registers every
 * axis, series and reference line in its store at each render of the chart (with a synchronous
 * re-render of the whole tree), so the parent's other renders (a new run not yet shown, throttled,
 * the job starting or ending) must not reach it.
 */
const SweepPlot = memo(function SweepPlot({ data, log, selectedId }: { data: ChartData; log: boolean; selectedId: number | null }) {
  const axis = useMemo(() => yAxis(data.yMin, data.yMax, log), [data.yMin, data.yMax, log]);
  const byMethod = useMemo(() => new Map(data.series.map((x) => [x.method, x])), [data.series]);
  const denseData = useMemo(() => (data.dense ? [data.dense] : NONE), [data.dense]);
  const shape = useCallback((props: ScatterShapeProps) => <PointShape {...props} selectedId={selectedId} />, [selectedId]);
  return (
    <ResponsiveContainer width="100%" height={280}>
      <ScatterChart margin={CHART_MARGIN}>
        <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
        <XAxis {...NUMBER_AXIS} dataKey="x" name="sparsity" unit="%" domain={X_DOMAIN} ticks={X_TICKS} label={X_LABEL} />
        <YAxis
          {...NUMBER_AXIS}
          dataKey="y"
          name="perplexity"
          scale={log ? 'log' : 'linear'}
          domain={axis.domain}
          ticks={axis.ticks}
          width={58}
          tickFormatter={formatTick}
          label={Y_LABEL}
        />
        <Tooltip content={TooltipBody} cursor={CURSOR} isAnimationActive={false} />
        {data.dense ? <ReferenceLine y={data.dense.y} stroke={METHOD_COLORS.dense} strokeDasharray="5 4" ifOverflow="extendDomain" /> : null}
        {/* Every series is always there (maybe empty): new points then change data only,
            which is much cheaper for recharts than adding a series. */}
        {METHODS.map((m) => (
          <Scatter
            key={`${m}-u`}
            name={METHOD_LABELS[m]}
            data={byMethod.get(m)?.unstructured ?? NONE}
            fill={METHOD_COLORS[m]}
            line={LINES[m]}
            shape={shape}
            isAnimationActive={false}
          />
        ))}
        {METHODS.map((m) => (
          <Scatter key={`${m}-nm`} name={`${METHOD_LABELS[m]} N:M`} data={byMethod.get(m)?.nm ?? NONE} fill={METHOD_COLORS[m]} shape={shape} isAnimationActive={false} />
        ))}
        <Scatter name="Dense" data={denseData} fill={METHOD_COLORS.dense} shape={shape} isAnimationActive={false} />
        {/* Each trained point joined to the point it trained from by a dashed segment. */}
        {data.links.map((l) => (
          <Scatter key={`link-${l.to.runId}`} name="" data={[l.from, l.to]} line={LINK_LINE} shape={NO_MARK} legendType="none" isAnimationActive={false} />
        ))}
        <Scatter name="Trained" data={data.trained} fill={METHOD_COLORS.trained} shape={shape} isAnimationActive={false} />
      </ScatterChart>
    </ResponsiveContainer>
  );
});

export function SweepChart() {
  const liveRuns = usePrune((s) => s.runs);
  const liveDense = usePrune((s) => s.dense);
  const selectedId = usePrune((s) => s.selectedRunId);
  const running = useJobKind() === 'sweep';
  // Throttled, then deferred: React renders the new points at low priority, in slices.
  const runs = useDeferredValue(useThrottled(liveRuns, THROTTLE_MS));
  const dense = useDeferredValue(useThrottled(liveDense, THROTTLE_MS));
  const [log, setLog] = useState(true);
  const data = useMemo(() => chartData(runs, dense), [runs, dense]);
  const box = useRef<HTMLDivElement>(null);

  return (
    <figure className="sweep-chart" data-testid="sweep-chart" data-count={data.count} aria-labelledby="sweep-chart-caption">
      <figcaption id="sweep-chart-caption">
        <span>
          <strong>Sparsity vs perplexity</strong>
          {data.evalLabel ? <span className="muted"> · {data.evalLabel}</span> : null}
          {running ? <span className="live-badge">live</span> : null}
        </span>
        <span className="button-row">
          <label className="check">
            <input type="checkbox" checked={log} onChange={(e) => setLog(e.currentTarget.checked)} data-testid="chart-log" />
            <span>log scale</span>
          </label>
          <ChartExportButtons data={data} box={box} />
        </span>
      </figcaption>
      {/* Always mounted (an empty chart until the first point): mounting recharts costs a long
          main-thread task, better spent at start-up than when the first point of a run arrives. */}
      <div className="chart-box" ref={box}>
        {data.count === 0 ? (
          <p className="muted chart-empty">Prune or run a sweep: each measured run appears here. Measure the dense model (Evaluate, or a sweep) for the reference point.</p>
        ) : null}
        <SweepPlot data={data} log={log} selectedId={selectedId} />
      </div>
      <ul className="chart-legend" aria-label="Legend">
        {(['sparsegpt', 'sparsellm', 'wanda', 'magnitude'] as const).map((m) => (
          <li key={m}>
            <svg width="12" height="12" aria-hidden="true">
              <circle cx="6" cy="6" r="5" fill={METHOD_COLORS[m]} />
            </svg>
            {METHOD_LABELS[m]}
          </li>
        ))}
        <li>
          <svg width="14" height="14" aria-hidden="true">
            <path d="M7,1L13,7L7,13L1,7Z" fill="#ffffff" stroke="currentColor" strokeWidth="2" />
          </svg>
          N:M pattern
        </li>
        <li>
          <svg width="12" height="12" aria-hidden="true">
            <rect x="1" y="1" width="10" height="10" fill={METHOD_COLORS.dense} />
          </svg>
          dense
        </li>
        <li>
          <svg width="14" height="12" aria-hidden="true">
            <path d="M7,1L13,11L1,11Z" fill={METHOD_COLORS.trained} />
          </svg>
          trained (dashed: from its start point)
        </li>
        {data.hidden ? <li className="muted">{data.hidden} run(s) measured with other evaluation settings are not shown</li> : null}
      </ul>
    </figure>
  );
}
