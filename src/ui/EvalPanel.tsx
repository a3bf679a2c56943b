import { measurePerplexity } from '../store/perplexity-actions';
import { useEngine } from '../store/engine-status';
import { useModel } from '../store/model';
import { usePerplexity } from '../store/perplexity';
import { busyLine } from '../store/job';
import { selectedText, useTexts } from '../store/texts';
import { ErrorAlert } from './ErrorAlert';
import { formatInt, formatMetric, formatSeconds } from './format';
import { JobProgress, RunControls, useJobKind, submitTo } from './JobControls';
import { NumberField, fieldsOf } from './NumberField';
import { Fact } from './Fact';

function Result() {
  const run = usePerplexity((s) => s.run);
  if (run.status === 'cancelled') {
    return (
      <p role="status" className="muted" data-testid="ppl-cancelled">
        Cancelled after {formatSeconds(run.elapsed)}.
      </p>
    );
  }
  if (run.status !== 'done') return null;
  const r = run.result;
  const s = run.settings;
  return (
    <div className="result" data-testid="ppl-result" data-call-id={run.callId} aria-live="polite">
      <p className="result-headline">
        Perplexity{' '}
        <span className="big" data-testid="ppl-value" data-value={String(r.ppl)}>
          {formatMetric(r.ppl, 6)}
        </span>
      </p>
      <dl className="facts">
        <Fact label="Mean NLL" testId="nll-value" value={String(r.nll)}>{formatMetric(r.nll, 6)} nats/token</Fact>
        <Fact label="Windows">{formatInt(r.windows)}</Fact>
        <Fact label="Predicted tokens">{formatInt(r.tokens)}</Fact>
        <Fact label="Time">{formatSeconds(r.seconds)}</Fact>
        <Fact label="Adapter">{r.adapter}</Fact>
        <Fact label="Weights" testId="ppl-weights">{s.weights}</Fact>
        <Fact label="Settings">{s.modelName}, {s.textLabel}, seqlen {s.seqlen}{s.maxWindows !== undefined ? `, max ${s.maxWindows} windows` : ''}</Fact>
      </dl>
    </div>
  );
}

export function EvalPanel() {
  const inputs = usePerplexity();
  const engineReady = useEngine((s) => s.status === 'ready');
  const modelLoaded = useModel((s) => s.status === 'loaded');
  const hasText = useTexts((s) => selectedText(s.eval).length > 0);
  const job = useJobKind();
  const running = job === 'perplexity';
  const field = fieldsOf(inputs, inputs.set, running);
  const blocker = !engineReady
    ? 'Needs WebGPU.'
    : !modelLoaded
      ? 'Load a model first.'
      : !hasText
        ? 'Choose an evaluation text first.'
        : job && !running
          ? busyLine(job)
          : null;

  const onSubmit = submitTo(measurePerplexity);

  return (
    <section className="panel panel-eval" aria-labelledby="eval-heading">
      <h2 id="eval-heading">Evaluate</h2>
      <p className="muted">
        Perplexity of the evaluation text with the weights as they are now (dense or pruned): the text is tokenized once and cut
        into non-overlapping windows of the sequence length.
      </p>
      <form className="eval-form" onSubmit={onSubmit}>
        <NumberField
          {...field('seqlenInput', 'seqlen')}
          label={
            <>
              Sequence length <span className="muted">(evaluation and calibration)</span>
            </>
          }
          title="One setting for evaluation windows and calibration windows (also shown in the Method area)"
          min={2}
        />
        <NumberField {...field('maxWindowsInput', 'max-windows')} label="Max windows (optional)" min={1} placeholder="all" />
        <RunControls kind="perplexity" ids={{ run: 'measure-ppl', cancel: 'cancel', blocker: 'measure-blocker' }} label="Measure perplexity" blocker={blocker} />
      </form>
      <JobProgress kind="perplexity" />
      <ErrorAlert area="eval" testId="eval-error" />
      <Result />
    </section>
  );
}
