import type { RopeParams } from '../core/model/config';
import { Fact } from './Fact';
import type { AdapterSummary, GpuMemory, ModelSummary } from '../core/types';
import { baseName } from '../core/io/file-source';
import { adapterName } from './Header';
import { formatBytes, formatCompact, formatInt } from './format';
import { TensorList } from './TensorList';

function AdapterFacts({ adapter }: { adapter: AdapterSummary }) {
  const l = adapter.limits;
  return (
    <>
      <details className="adapter-facts">
        <summary>
          GPU adapter: {adapterName(adapter)}
          {adapter.isSoftware ? ' (software)' : ''}
        </summary>
        <dl className="facts">
          <Fact label="Adapter">
            {adapterName(adapter)}
            {adapter.isSoftware ? ' (software)' : ''}
          </Fact>
          <Fact label="Vendor / architecture">{[adapter.vendor, adapter.architecture].filter(Boolean).join(' / ') || '—'}</Fact>
          <Fact label="Max storage binding">{formatBytes(l.maxStorageBufferBindingSize)}</Fact>
          <Fact label="Max buffer">{formatBytes(l.maxBufferSize)}</Fact>
          <Fact label="Workgroup storage">{formatBytes(l.maxComputeWorkgroupStorageSize)}</Fact>
          <Fact label="Invocations / workgroup">{formatInt(l.maxComputeInvocationsPerWorkgroup)}</Fact>
          <Fact label="Workgroups / dimension">{formatInt(l.maxComputeWorkgroupsPerDimension)}</Fact>
        </dl>
        <details className="features">
          <summary>Adapter features ({adapter.features.length})</summary>
          <p className="mono">{adapter.features.length ? [...adapter.features].sort().join(', ') : 'none'}</p>
        </details>
      </details>
    </>
  );
}

/** "llama3 ×8, θ 500000, 50 % of each head" */
export function ropeLabel(r: RopeParams): string {
  const parts = [r.type === 'default' ? 'default' : `${r.type} ×${r.factor}`, `θ ${r.theta}`];
  if (r.partial !== 1) parts.push(`${Math.round(r.partial * 1000) / 10} % of each head`);
  if (r.type === 'llama3') parts.push(`original context ${r.originalMaxPositions}, low/high ${r.lowFreqFactor}/${r.highFreqFactor}`);
  return parts.join(', ');
}

export function ModelCard({ model, label, adapter, memory }: { model: ModelSummary; label: string | null; adapter: AdapterSummary | null; memory: GpuMemory | null }) {
  return (
    <article className="model-card" data-testid="model-card" aria-labelledby="model-card-title">
      <header>
        <h3 id="model-card-title" data-testid="model-name">
          {model.name}
        </h3>
        {label ? (
          <span className="muted" data-testid="model-source">
            {label}
          </span>
        ) : null}
      </header>
      <dl className="facts">
        <Fact label="Architecture" testId="model-architecture">
          {model.architecture}
        </Fact>
        <Fact label="Family" testId="model-family">
          {model.family}
        </Fact>
        <Fact label="Parameters" testId="model-parameters">
          {formatInt(model.parameters)} ({formatCompact(model.parameters)})
        </Fact>
        <Fact label="Layers">{model.layers}</Fact>
        <Fact label="Hidden size">{formatInt(model.hidden)}</Fact>
        <Fact label="Heads / KV heads" testId="model-heads">
          {model.heads} / {model.kvHeads}
        </Fact>
        <Fact label="FFN size" testId="model-ffn">
          {formatInt(model.ffn)}
        </Fact>
        <Fact label="Vocabulary">{formatInt(model.vocabSize)}</Fact>
        <Fact label="Weights dtype">
          {model.dtype}
          {model.configDtype ? ` (config: ${model.configDtype})` : ''}
        </Fact>
        {model.rope ? (
          <Fact label="Rotary" testId="model-rope">
            {ropeLabel(model.rope)}
          </Fact>
        ) : null}
        <Fact label="Weight bytes">{formatBytes(model.bytes)}</Fact>
        <Fact label="GPU bytes (f32)">{formatBytes(model.gpuBytes)}</Fact>
        <Fact label="GPU budget" testId="model-gpu-budget">
          {formatBytes(model.gpuBudget)}: {model.streamed ? 'streamed, a decoder layer at a time' : 'all weights on the GPU'}
        </Fact>
        {memory ? (
          <Fact label="On the GPU now / peak" testId="model-gpu-memory">
            weights {formatBytes(memory.residentBytes)} / {formatBytes(memory.peakResidentBytes)}; all buffers {formatBytes(memory.liveBytes)} / {formatBytes(memory.peakBytes)}
          </Fact>
        ) : null}
        <Fact label="Tokenizer">{model.hasTokenizer ? 'yes' : 'missing'}</Fact>
        <Fact label="Files">{model.files.map(baseName).join(', ')}</Fact>
        {model.prunedBy ? (
          <Fact label="Pruned by Prune Studio">
            <span data-testid="pruned-by">
              {model.prunedBy.method}, {(model.prunedBy.sparsity * 100).toFixed(1)}% sparse
            </span>
          </Fact>
        ) : null}
      </dl>
      {model.notes.length ? (
        <ul className="model-notes" data-testid="model-notes" aria-label="Notes on this model">
          {model.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      {adapter ? <AdapterFacts adapter={adapter} /> : null}
      <TensorList tensors={model.tensors} />
    </article>
  );
}
