import { useRef, useState, type DragEvent } from 'react';
import { cancelModelLoad, loadDemoModel, loadModelFiles } from '../store/model-actions';
import { useEngine } from '../store/engine-status';
import { useModel } from '../store/model';
import { collectDroppedFiles, filesFromInput, labelFor, snapshotDataTransfer } from './drop';
import { ErrorAlert } from './ErrorAlert';
import { HubPanel } from './HubPanel';
import { KeptModels } from './KeptModels';
import { formatBytes, formatSeconds } from './format';
import { ModelCard } from './ModelCard';
import { useShallow } from 'zustand/react/shallow';
import { TextField } from './NumberField';

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

function DropZone({ disabled }: { disabled: boolean }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const folderInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);

  const onDragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth.current++;
    setOver(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDragLeave = () => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setOver(false);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    depth.current = 0;
    setOver(false);
    // Take the entries now: the DataTransfer is emptied when this handler returns.
    const snap = snapshotDataTransfer(e.dataTransfer);
    void collectDroppedFiles(snap).then((files) => loadModelFiles(files, labelFor(files)));
  };

  const onPicked = (input: HTMLInputElement | null) => {
    if (!input) return;
    const files = filesFromInput(input.files);
    input.value = '';
    void loadModelFiles(files, labelFor(files));
  };

  return (
    <div
      className={`drop-zone${over ? ' drop-over' : ''}`}
      data-testid="drop-zone"
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
      aria-describedby="model-drop-help"
    >
      <p id="model-drop-help">
        Drop a model folder here (config.json, *.safetensors, tokenizer.json; config and tokenizer alone to train from scratch), or pick it. Files stay on this computer.
      </p>
      <div className="button-row">
        <button type="button" disabled={disabled} onClick={() => folderInput.current?.click()}>
          Choose folder…
        </button>
        <button type="button" disabled={disabled} onClick={() => filesInput.current?.click()}>
          Choose files…
        </button>
        <button type="button" disabled={disabled} onClick={() => void loadDemoModel()}>
          Load demo model
        </button>
      </div>
      <input
        ref={(el) => {
          folderInput.current = el;
          el?.setAttribute('webkitdirectory', '');
        }}
        type="file"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Model folder"
        data-testid="model-folder-input"
        onChange={(e) => onPicked(e.currentTarget)}
      />
      <input
        ref={filesInput}
        type="file"
        multiple
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Model files"
        data-testid="model-files-input"
        onChange={(e) => onPicked(e.currentTarget)}
      />
    </div>
  );
}

/** "model.safetensors: 12.0 MiB of 1.2 GiB (1 %), 8.4 MiB/s, about 2 min 24 s left" */
function downloadLine(d: NonNullable<ReturnType<typeof useModel.getState>['progress']>['download']): string {
  if (!d) return '';
  const pct = d.total > 0 ? Math.floor((100 * d.done) / d.total) : 0;
  const rate = d.bytesPerSecond > 0 ? `, ${formatBytes(d.bytesPerSecond)}/s, about ${formatSeconds((d.total - d.done) / d.bytesPerSecond)} left` : '';
  return `downloading ${d.file} (file ${Math.min(d.files + 1, d.fileCount)} of ${d.fileCount}): ${formatBytes(d.done)} of ${formatBytes(d.total)} (${pct} %)${rate}`;
}

function LoadProgress() {
  const { status, progress, loadingLabel } = useModel();
  if (status !== 'loading') return null;
  const pct = progress && progress.total > 0 ? progress.done / progress.total : undefined;
  return (
    <div className="progress-block" data-testid="model-progress">
      <label>
        <span data-testid="model-progress-text">
          Loading {loadingLabel}
          {progress?.download
            ? ` — ${downloadLine(progress.download)}`
            : progress
              ? ` — ${progress.phase}${progress.detail ? `: ${progress.detail}` : ` ${progress.done}/${progress.total}`}`
              : '…'}
        </span>
        <progress max={1} value={pct} />
      </label>
      <button type="button" onClick={cancelModelLoad}>
        Cancel loading
      </button>
    </div>
  );
}

/** The GPU budget for weights, used by the next load: past it the model streams a layer at a time. */
function GpuBudgetField() {
  const text = useModel((s) => s.gpuBudgetText);
  return (
    <div className="form-grid">
      <TextField
        id="gpu-budget"
        testId="gpu-budget"
        label="GPU budget for weights"
        title="Bytes of weights on the GPU at once, e.g. 1 GiB. A model larger than this stays in memory and goes to the GPU one decoder layer at a time (slower, same numbers). Empty: four times the adapter's largest buffer."
        placeholder="adapter default"
        value={text}
        onChange={(v) => useModel.getState().set({ gpuBudgetText: v })}
      />
    </div>
  );
}

export function ModelPanel() {
  const { status: engineStatus, adapter } = useEngine(useShallow((s) => ({ status: s.status, adapter: s.adapter })));
  const { summary, label, status, memory } = useModel(useShallow((s) => ({ summary: s.summary, label: s.label, status: s.status, memory: s.memory })));
  const noGpu = engineStatus === 'no-webgpu' || engineStatus === 'no-adapter' || engineStatus === 'failed' || engineStatus === 'lost';
  return (
    <section className="panel panel-model" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <DropZone disabled={engineStatus !== 'ready'} />
      <GpuBudgetField />
      {noGpu ? <p className="muted">Loading a model needs WebGPU (see above).</p> : null}
      <HubPanel disabled={engineStatus !== 'ready'} />
      <LoadProgress />
      <ErrorAlert area="model" testId="model-error" />
      {/* Next to the drop zone: a kept model is another way to load one. */}
      <KeptModels />
      {summary ? (
        <ModelCard model={summary} label={label} adapter={adapter} memory={memory} />
      ) : status === 'empty' && engineStatus === 'ready' ? (
        <p className="muted">No model loaded.</p>
      ) : null}
    </section>
  );
}
