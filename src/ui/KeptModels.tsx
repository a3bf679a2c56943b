// Models kept in this browser (Origin Private File System): keep the loaded folder, reopen or
// remove a kept one, and see how much storage the site uses.
import { useEffect, useState } from 'react';
import { loadedModelSource } from '../store/model-actions';
import { useEngine } from '../store/engine-status';
import { useModel } from '../store/model';
import { cancelKeep, isKept, keepLoadedModel, openKept, refreshKept, removeKept, useKept, type KeptModel } from '../store/opfs';
import { errorTitle } from './ErrorAlert';
import { formatBytes } from './format';
import { useShallow } from 'zustand/react/shallow';

function KeptRow({ m, busy, canOpen }: { m: KeptModel; busy: boolean; canOpen: boolean }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <li data-testid="kept-item" data-id={m.id} data-name={m.name} data-complete={m.complete} className="button-row" style={{ alignItems: 'center' }}>
      <span>
        <strong>{m.name}</strong>{' '}
        <span className="muted small">
          {formatBytes(m.bytes)}
          {m.complete ? `, ${m.files} files` : ', incomplete copy'}
          {m.keptAt ? `, kept ${new Date(m.keptAt).toLocaleDateString()}` : ''}
        </span>
      </span>
      {confirming ? (
        <>
          <button type="button" data-testid="kept-remove-confirm" disabled={busy} onClick={() => void removeKept(m.id)}>
            Remove {m.name} ({formatBytes(m.bytes)})
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </>
      ) : (
        <>
          <button type="button" data-testid="kept-open" disabled={busy || !canOpen || !m.complete} onClick={() => void openKept(m.id)} aria-label={`Open the kept model ${m.name}`}>
            Open
          </button>
          <button type="button" data-testid="kept-remove" disabled={busy} onClick={() => setConfirming(true)} aria-label={`Remove the kept model ${m.name}`}>
            Remove
          </button>
        </>
      )}
    </li>
  );
}

export function KeptModels() {
  const { support, models, listed, storage, busy, error, notice, set } = useKept(useShallow((s) => s));
  const { summary, status: modelStatus } = useModel(useShallow((s) => ({ summary: s.summary, status: s.status })));
  const engineReady = useEngine((s) => s.status === 'ready');

  useEffect(() => {
    void refreshKept();
  }, []);

  // Read with the summary: both change together when a load finishes.
  const src = summary ? loadedModelSource() : null;
  const keepable = summary !== null && src?.source.kind === 'files' && support?.canWrite === true;
  const already = summary !== null && isKept(summary, models);
  const keeping = busy?.op === 'keep' ? busy : null;

  return (
    <section className="kept-models" aria-labelledby="kept-heading" data-testid="kept-models">
      <h3 id="kept-heading">Kept in this browser</h3>
      {support?.reason ? (
        <p className="muted small" data-testid="kept-unsupported">
          {support.reason}
        </p>
      ) : null}
      {keepable ? (
        <div className="button-row">
          <button type="button" data-testid="keep-model" disabled={busy !== null || already || modelStatus !== 'loaded'} onClick={() => void keepLoadedModel()}>
            {already ? `${summary.name} is kept` : `Keep ${summary.name} in this browser`}
          </button>
          {keeping ? (
            <button type="button" data-testid="keep-cancel" onClick={cancelKeep}>
              Cancel
            </button>
          ) : null}
        </div>
      ) : null}
      {keeping ? (
        <div className="progress-block" data-testid="keep-progress">
          <label>
            <span>
              Copying {keeping.name}: {formatBytes(keeping.done)} of {formatBytes(keeping.total)}
            </span>
            <progress max={Math.max(1, keeping.total)} value={keeping.done} />
          </label>
        </div>
      ) : null}
      {notice ? (
        <p role="status" className="small" data-testid="kept-notice">
          {notice}
        </p>
      ) : null}
      {error ? (
        <div role="alert" className="alert" data-testid="kept-error" data-error-name={error.name}>
          <div className="alert-body">
            <strong className="alert-title">{errorTitle(error.name)}</strong>
            <span className="alert-message">{error.message}</span>
          </div>
          <button type="button" className="icon-button" aria-label="Dismiss the storage message" onClick={() => set({ error: null })}>
            ×
          </button>
        </div>
      ) : null}
      {models.length ? (
        <ul data-testid="kept-list" style={{ listStyle: 'none', padding: 0, display: 'grid', gap: '0.4rem' }}>
          {models.map((m) => (
            <KeptRow key={m.id} m={m} busy={busy !== null} canOpen={engineReady} />
          ))}
        </ul>
      ) : listed && support?.canList ? (
        <p className="muted small">No model kept yet. Load a model folder, then keep it here to reopen it later without dropping it again.</p>
      ) : null}
      {storage ? (
        <p className="muted small" data-testid="storage-estimate" data-usage={storage.usage} data-quota={storage.quota}>
          This site uses {formatBytes(storage.usage)} of {formatBytes(storage.quota)} it may store in this browser
          {storage.persisted === true ? ' (persistent: kept unless you clear it)' : storage.persisted === false ? ' (the browser may clear it when disk space runs low)' : ''}.
        </p>
      ) : null}
    </section>
  );
}
