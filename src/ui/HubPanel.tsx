// Open a model by its id on the Hugging Face Hub: the file list of the commit, then download
// (resumed from whatever is already in this browser) and open. The download's progress, cancel
// and errors are the Model area's, as for any load.
import { useId } from 'react';
import { findHubModel, listingIsCurrent, openHubModel, useHub } from '../store/hub';
import { useModel } from '../store/model';
import { ErrorAlert } from './ErrorAlert';
import { formatBytes } from './format';
import { Head } from './Table';

function FileList() {
  const state = useHub();
  const l = state.listing;
  if (!l || !listingIsCurrent(state)) return null;
  const wanted = l.files.filter((f) => f.download);
  const skipped = l.files.length - wanted.length;
  return (
    <div className="hub-listing" data-testid="hub-listing">
      <p>
        <strong>{l.repo}</strong> at {l.revision === l.sha ? 'commit' : `${l.revision}, commit`} <span className="mono">{l.sha.slice(0, 12)}</span>
        {l.gated ? ' — a gated model: the download needs an access token of an account that accepted its conditions.' : ''}
      </p>
      <p data-testid="hub-summary">
        {wanted.length} files to download, {formatBytes(l.downloadBytes)}
        {l.haveBytes > 0 ? ` (${formatBytes(l.haveBytes)} already in this browser)` : ''}
        {skipped > 0 ? `; ${skipped} other files of the repository are not needed` : ''}.
      </p>
      <table className="hub-files">
        <Head cols={['File', 'Size', 'Downloaded']} />
        <tbody>
          {l.files.map((f) => (
            <tr key={f.path} data-testid="hub-file" data-download={f.download} className={f.download ? '' : 'muted'}>
              <td className="mono">{f.path}</td>
              <td>{formatBytes(f.size)}</td>
              <td>{f.download ? 'yes' : 'not needed'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function HubPanel({ disabled }: { disabled: boolean }) {
  const s = useHub();
  const loading = useModel((m) => m.status === 'loading');
  const ids = { id: useId(), rev: useId(), token: useId(), url: useId() };
  const busy = disabled || loading || s.busy !== null;
  return (
    <details className="hub-panel" data-testid="hub-panel" open>
      <summary>Open from the Hugging Face Hub</summary>
      <form
        className="hub-form"
        onSubmit={(e) => {
          e.preventDefault();
          void openHubModel();
        }}
      >
        <div className="hub-fields">
          <label htmlFor={ids.id}>Model id</label>
          <input id={ids.id} data-testid="hub-id" value={s.id} placeholder="HuggingFaceTB/SmolLM2-135M" spellCheck={false} autoComplete="off" onChange={(e) => s.set({ id: e.target.value })} />
          <label htmlFor={ids.rev}>Revision</label>
          <input id={ids.rev} data-testid="hub-revision" value={s.revision} placeholder="main" spellCheck={false} autoComplete="off" onChange={(e) => s.set({ revision: e.target.value })} />
          <label htmlFor={ids.token}>Access token</label>
          <input
            id={ids.token}
            data-testid="hub-token"
            type="password"
            value={s.token}
            placeholder="hf_… (gated or private models only)"
            autoComplete="off"
            onChange={(e) => s.set({ token: e.target.value })}
          />
        </div>
        <label className="checkbox">
          <input type="checkbox" data-testid="hub-remember" checked={s.rememberToken} onChange={(e) => s.set({ rememberToken: e.target.checked })} /> Remember the token in this browser
        </label>
        <details className="hub-advanced">
          <summary>Hub address</summary>
          <label htmlFor={ids.url}>Address</label>{' '}
          <input id={ids.url} data-testid="hub-url" value={s.hubUrl} spellCheck={false} autoComplete="off" onChange={(e) => s.set({ hubUrl: e.target.value })} />
          <p className="muted small">A mirror with the Hub's layout (as HF_ENDPOINT). The page's security policy lets it download from huggingface.co and hf.co only.</p>
        </details>
        <p className="muted small">
          The token goes to the Hub only, with each request for a file; it never leaves this browser otherwise. Files are kept in this browser, so the model opens again offline.
        </p>
        <div className="button-row">
          <button type="button" data-testid="hub-find" disabled={busy || !s.id.trim()} onClick={() => void findHubModel()}>
            {s.busy === 'list' ? 'Finding files…' : 'Find files'}
          </button>
          <button type="submit" data-testid="hub-open" disabled={busy || !s.id.trim()}>
            Download and open
          </button>
        </div>
      </form>
      <ErrorAlert area="hub" testId="hub-error" />
      <FileList />
    </details>
  );
}
