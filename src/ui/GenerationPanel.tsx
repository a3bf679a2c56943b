// The generation playground: one prompt continued by the dense and by the pruned weights, side by
// side, greedy or with seeded temperature sampling. Text streams in as the worker decodes each
// token; under each output the measured decode tokens/s (prefill excluded) and the prefill time.
import { type ReactNode } from 'react';
import { weightsLabel } from '../store/eval-settings';
import { type GenOutput, type GenSide, useGenerate } from '../store/generate';
import { generationBlocker, runGeneration } from '../store/generate-actions';
import { usePrune } from '../store/prune';
import { useEngineBusy } from './blockers';
import { ErrorAlert } from './ErrorAlert';
import { formatMetric, formatSeconds } from './format';
import { useNow } from './hooks';
import { RunControls, useJobKind, submitTo } from './JobControls';
import { DECIMAL, NumberField, SelectField, fieldsOf } from './NumberField';

const SIDE_TITLES: Record<GenSide, string> = { dense: 'Dense', pruned: 'Pruned' };

function Figures({ side, out }: { side: GenSide; out: GenOutput }) {
  const now = useNow(out.status === 'running', 250);
  const r = out.result;
  const tps = r?.decodeTokensPerS ?? null;
  if (out.status === 'running' || !r) {
    const elapsed = out.startedAt !== null ? Math.max(0, (now - out.startedAt) / 1000) : 0;
    return (
      <p className="gen-figures muted" data-testid={`gen-tps-${side}`} data-value="">
        {out.status === 'running' ? `${out.tokens} tokens · ${formatSeconds(elapsed)}` : out.status === 'waiting' ? 'Waiting for the dense side…' : ''}
      </p>
    );
  }
  return (
    <p className="gen-figures" data-testid={`gen-tps-${side}`} data-value={tps === null ? '' : String(tps)} data-tokens={r.tokens} data-prefill-ms={String(r.prefillMs)}>
      <strong>{tps === null ? '—' : `${formatMetric(tps, 3)} tokens/s`}</strong>
      <span className="muted">
        {' '}
        · {r.tokens} tokens{r.stopped === 'eos' ? ' (end of text)' : ''} · prefill {formatMetric(r.prefillMs, 3)} ms ({r.promptTokens} tokens)
        {r.sparseKernels ? ' · sparse kernels' : ''}
      </span>
    </p>
  );
}

function OutputBox({ side }: { side: GenSide }) {
  const out = useGenerate((s) => s.outputs[side]);
  const prompt = useGenerate((s) => s.shown?.prompt ?? '');
  const weights = usePrune((s) => s.weights);
  const pruned = weights !== null;
  const currentWeights = weightsLabel(weights);
  const headingId = `gen-heading-${side}`;
  let body: ReactNode;
  if (!out) body = <p className="muted">Press Generate to continue the prompt.</p>;
  else if (out.status === 'unavailable') body = <p className="muted" data-testid={`gen-unavailable-${side}`}>The model is dense: prune it to compare the pruned weights with the dense ones.</p>;
  else {
    body = (
      <>
        <div
          className="gen-text"
          data-testid={`gen-output-${side}`}
          data-status={out.status}
          data-tokens={out.tokens}
          data-updates={out.updates}
          aria-live="polite"
          aria-busy={out.status === 'running'}
          tabIndex={0}
          aria-labelledby={headingId}
        >
          <span className="gen-prompt-echo">{prompt}</span>
          {out.text}
          {out.status === 'running' ? <span className="gen-caret" aria-hidden="true" /> : null}
        </div>
        <Figures side={side} out={out} />
        {out.status === 'cancelled' ? <p className="muted small">Cancelled{out.tokens ? ` after ${out.tokens} tokens` : ''}.</p> : null}
        {out.status === 'failed' ? <p className="worse small">Failed (see the message above).</p> : null}
      </>
    );
  }
  const stale = out && out.status !== 'unavailable' && side === 'pruned' && out.weights !== currentWeights;
  return (
    <div className="gen-output" role="group" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {SIDE_TITLES[side]}{' '}
        <span className="muted small">{out && out.status !== 'unavailable' ? out.weights : side === 'dense' ? 'dense' : pruned ? currentWeights : 'no pruned weights'}</span>
      </h3>
      {body}
      {stale ? <p className="worse small">The weights have changed since; generate again.</p> : null}
    </div>
  );
}

const MODES = { greedy: 'Greedy', sampling: 'Sampling' } as const;

export function GenerationPanel() {
  const settings = useGenerate((s) => s.settings);
  const setSettings = useGenerate((s) => s.setSettings);
  const running = useJobKind() === 'generate';
  const shown = useGenerate((s) => s.shown);
  const blocker = generationBlocker(useEngineBusy());
  const pruned = usePrune((s) => s.weights !== null);
  const sampling = settings.mode === 'sampling';
  const field = fieldsOf(settings, setSettings, running);

  const onSubmit = submitTo(runGeneration);

  return (
    <section className="panel panel-generate" aria-labelledby="gen-heading" data-testid="generation-panel">
      <h2 id="gen-heading">Generation playground</h2>
      <p className="muted">
        One prompt, continued by the dense weights and {pruned ? 'by the pruned weights' : '(once pruned) by the pruned weights'}, side by side. Text
        appears as each token is decoded; tokens/s counts the one-token steps after the prompt&apos;s prefill.
      </p>
      <form className="gen-form" onSubmit={onSubmit}>
        <label className="stacked" htmlFor="gen-prompt">
          Prompt
        </label>
        <textarea
          id="gen-prompt"
          data-testid="gen-prompt"
          rows={3}
          value={settings.prompt}
          disabled={running}
          onChange={(e) => setSettings({ prompt: e.currentTarget.value })}
        />
        <div className="form-grid">
          <NumberField {...field('maxNewTokens', 'gen-max-new')} label="New tokens" min={1} />
          <SelectField id="gen-mode" label="Decoding" value={settings.mode} labels={MODES} disabled={running} onChange={(mode) => setSettings({ mode })} />
          {sampling ? (
            <>
              <NumberField {...field('temperature', 'gen-temperature')} {...DECIMAL} label="Temperature" title="softmax(logits / temperature); above 0" min={0} />
              <NumberField {...field('topK', 'gen-top-k')} label="Top-k (0: off)" title="Sample only among the k most likely tokens" min={0} />
              <NumberField {...field('seed', 'gen-seed')} label="Seed" title="The same seed gives the same text" min={0} />
            </>
          ) : null}
        </div>
        <RunControls
          kind="generate"
          ids={{ run: 'gen-run', cancel: 'gen-cancel', blocker: 'gen-blocker' }}
          label={running ? 'Generating…' : pruned ? 'Generate (dense, then pruned)' : 'Generate'}
          blocker={blocker}
        />
      </form>
      <ErrorAlert area="generate" testId="gen-error" />
      {shown ? <p className="small muted">Decoding: {shown.decoding}.</p> : null}
      <div className="gen-outputs">
        <OutputBox side="dense" />
        <OutputBox side="pruned" />
      </div>
    </section>
  );
}
