// One line at the top of the Results area: whether runs are saved in this browser (or why not,
// the one notice when storage is unavailable) and "Clear history", confirmed inline.
import { useState } from 'react';
import { clearHistory, useHistory } from '../../store/history';
import { useModel } from '../../store/model';
import { usePrune } from '../../store/prune';
import { useJobKind } from '../JobControls';

export function RunHistory() {
  const status = useHistory((s) => s.status);
  const skipped = useHistory((s) => s.skipped);
  const runs = usePrune((s) => s.runs.length);
  const hasDense = usePrune((s) => Object.keys(s.dense).length > 0);
  const kind = useJobKind();
  const busy = kind === 'prune' || kind === 'sweep';
  const model = useModel((s) => s.summary?.name ?? null);
  const [confirming, setConfirming] = useState(false);
  const saved = status.status === 'ready';
  const something = runs > 0 || hasDense;

  return (
    <div className="button-row small" data-testid="run-history" data-status={status.status} style={{ alignItems: 'center', marginBottom: '0.5rem' }}>
      {status.status === 'unavailable' ? (
        <span className="muted" role="status" data-testid="history-notice">
          Runs are not saved in this browser: {status.reason}
        </span>
      ) : saved ? (
        <span className="muted">
          Runs are saved in this browser{skipped ? ` (${skipped} damaged record${skipped === 1 ? '' : 's'} skipped)` : ''}.
        </span>
      ) : null}
      {confirming ? (
        <>
          <span>
            Delete the {runs} run{runs === 1 ? '' : 's'}
            {model ? ` of ${model}` : ''}
            {saved ? ' from this browser' : ''}?
          </span>
          <button
            type="button"
            data-testid="clear-history-confirm"
            disabled={busy}
            onClick={() => {
              setConfirming(false);
              void clearHistory();
            }}
          >
            Delete
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : something ? (
        <button type="button" className="link-button" data-testid="clear-history" disabled={busy} onClick={() => setConfirming(true)}>
          Clear history…
        </button>
      ) : null}
    </div>
  );
}
