// "Speed & size": what the zeros of the current pruned weights buy on this GPU. Per weight shape
// and storage format: bytes on disk and in GPU memory, decode (GEMV) and prefill (GEMM, T = 128)
// time per call with the speed-up over the dense kernel, and end-to-end decode tokens/s dense vs
// the auto-selected sparse kernels. Measured in the worker when the button is pressed.
import { useEngine } from '../../store/engine-status';
import { weightsLabel } from '../../store/eval-settings';
import { usePrune } from '../../store/prune';
import { groupByShape, runSpeed, speedBlocker, useSpeed, type SpeedResult } from '../../store/speed';
import { ErrorAlert } from '../ErrorAlert';
import { formatBytes, formatMetric, formatSeconds } from '../format';
import { useEngineBusy } from '../blockers';
import { HeadCells } from '../Table';
import { JobProgress, RunControls, useJobKind } from '../JobControls';

const FORMAT_LABELS: Record<string, string> = { dense: 'dense', bitmask: 'bitmask', '2:4': '2:4', csr: 'CSR', sell: 'SELL' };

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);
}

function times(x: number): string {
  return `${x.toFixed(2)}×`;
}

function ofDense(x: number, dense: number | undefined): string {
  return dense ? `${((x / dense) * 100).toFixed(0)} %` : '';
}

function SpeedTable({ result }: { result: SpeedResult }) {
  const groups = groupByShape(result.report.rows);
  return (
    <div className="table-wrap">
      <table className="data-table speed-table" data-testid="speed-table">
        <caption>
          Per weight shape and storage format. Bold: the fastest format for that shape in that regime; × is the speed-up over the dense
          kernel.
        </caption>
        <thead>
          <tr>
            <th scope="col" rowSpan={2}>
              Format
            </th>
            {['Bytes (% of dense)', 'Decode GEMV, T = 1', 'Prefill GEMM, T = 128'].map((g) => (
              <th key={g} scope="colgroup" colSpan={2} className="num">
                {g}
              </th>
            ))}
          </tr>
          <tr>
            <HeadCells cols={['#disk', '#GPU', '#ms, ×', '#GB/s', '#ms, ×', '#GFLOP/s']} />
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g.shape} className="speed-group">
            <tr className="speed-shape">
              <th scope="rowgroup" colSpan={7}>
                <span className="mono">
                  {g.N}×{g.K}
                </span>{' '}
                · {g.count} sublayer{g.count === 1 ? '' : 's'} · {(g.sparsity * 100).toFixed(1)} % zeros
              </th>
            </tr>
            {g.rows.map((r) => {
              const fv = r.format === g.fastestGemv;
              const fm = r.format === g.fastestGemm;
              return (
                <tr
                  key={r.format}
                  data-testid="speed-row"
                  data-shape={r.shape}
                  data-format={r.format}
                  data-gemv-ms={String(r.gemv_ms)}
                  data-gemm-ms={String(r.gemm_ms)}
                  data-fastest={[fv ? 'gemv' : '', fm ? 'gemm' : ''].filter(Boolean).join(' ')}
                >
                  <td>{FORMAT_LABELS[r.format] ?? r.format}</td>
                  <td className="num">
                    {formatBytes(r.bytes.disk)}
                    <span className="muted sub">{ofDense(r.bytes.disk, g.dense?.bytes.disk)}</span>
                  </td>
                  <td className="num">
                    {formatBytes(r.bytes.gpu)}
                    <span className="muted sub">{ofDense(r.bytes.gpu, g.dense?.bytes.gpu)}</span>
                  </td>
                  <td className={`num${fv ? ' fastest' : ''}`} title={fv ? 'Fastest for decode' : undefined}>
                    {ms(r.gemv_ms)}
                    <span className="sub speedup">{times(r.speedup_gemv)}</span>
                  </td>
                  <td className="num">{formatMetric(r.gemv_gbps, 3)}</td>
                  <td className={`num${fm ? ' fastest' : ''}`} title={fm ? 'Fastest for prefill' : undefined}>
                    {ms(r.gemm_ms)}
                    <span className="sub speedup">{times(r.speedup_gemm)}</span>
                  </td>
                  <td className="num">{formatMetric(r.gemm_gflops, 3)}</td>
                </tr>
              );
            })}
          </tbody>
        ))}
      </table>
    </div>
  );
}

function DecodeResult({ result }: { result: SpeedResult }) {
  const d = result.report.decode;
  const ratio = d.sparse_tokens_per_s / d.dense_tokens_per_s;
  return (
    <div className="speed-decode" data-testid="decode-tps" data-dense={String(d.dense_tokens_per_s)} data-sparse={String(d.sparse_tokens_per_s)} data-same-tokens={String(d.same_tokens)}>
      <p>
        End-to-end greedy decode ({d.tokens} tokens, KV cache): dense <strong>{formatMetric(d.dense_tokens_per_s, 3)} tokens/s</strong>, sparse with
        auto-selected kernels <strong>{formatMetric(d.sparse_tokens_per_s, 3)} tokens/s</strong>{' '}
        <span className={ratio >= 1 ? 'better' : 'worse'}>({times(ratio)})</span>.
      </p>
      {d.same_tokens ? null : (
        <p className="note" data-testid="decode-differs">
          The sparse kernels produced different tokens than the dense ones (summation order differs, so a near tie between two tokens can flip).
        </p>
      )}
    </div>
  );
}

export function SpeedPanel() {
  const running = useJobKind() === 'speed';
  const result = useSpeed((s) => s.result);
  const adapter = useEngine((s) => s.adapter?.description ?? null);
  const weights = usePrune((s) => s.weights);
  const blocker = speedBlocker({ ...useEngineBusy(), dense: weights === null });
  const trained = usePrune((s) => s.trainedRun);
  const stale = result !== null && result.weights !== weightsLabel(weights, trained);
  return (
    <div className="speed" data-testid="speed-panel">
      <h3>Speed &amp; size</h3>
      <p className="muted">
        Measured on this GPU{adapter ? <> — adapter <strong>{adapter}</strong> —</> : null} when you press the button, for the current
        weights: each weight shape with the dense kernel and each sparse storage format, then end-to-end decode. Nothing is estimated; on
        a software adapter it takes up to a minute.
      </p>
      <RunControls
        kind="speed"
        ids={{ run: 'speed-run', cancel: 'speed-cancel', blocker: 'speed-blocker' }}
        label={running ? 'Measuring…' : 'Measure speed & size'}
        blocker={blocker}
        onRun={() => void runSpeed()}
      />
      <JobProgress kind="speed" />
      <ErrorAlert area="speed" testId="speed-error" />
      {result ? (
        <div className="speed-result" data-testid="speed-result">
          <p className="small">
            Measured on <strong data-testid="speed-adapter">{result.adapter}</strong> for {result.weights}, in {formatSeconds(result.seconds)}.
            {stale ? <span className="worse"> The weights have changed since; measure again.</span> : null}
          </p>
          <DecodeResult result={result} />
          <SpeedTable result={result} />
        </div>
      ) : null}
    </div>
  );
}
