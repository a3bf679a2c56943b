import { useRef, useState, type DragEvent } from 'react';
import { loadTextFile, selectText, setPastedText } from '../store/actions';
import { selectedText, useTexts, type TextKind } from '../store/texts';
import { ErrorAlert } from './ErrorAlert';
import { formatBytes, formatInt } from './format';

function TokenLine() {
  const tokens = useTexts((s) => s.tokens);
  const text = useTexts(selectedText);
  const chars = text.length;
  let tok: string;
  switch (tokens.status) {
    case 'idle':
      tok = '';
      break;
    case 'counting':
      tok = 'counting tokens…';
      break;
    case 'done':
      tok = `${formatInt(tokens.tokens)} tokens`;
      break;
    case 'unavailable':
      tok = tokens.reason;
      break;
  }
  return (
    <p className="token-line" data-testid="token-count" aria-live="polite" data-tokens={tokens.status === 'done' ? tokens.tokens : undefined}>
      {chars ? `${formatInt(chars)} characters` : 'No text'}
      {tok ? ` · ${tok}` : ''}
    </p>
  );
}

function Preview() {
  const text = useTexts(selectedText);
  if (!text) return null;
  const head = text.length > 400 ? `${text.slice(0, 400)}…` : text;
  return (
    <figure className="preview">
      <figcaption>Beginning of the selected text</figcaption>
      <blockquote>{head}</blockquote>
    </figure>
  );
}

export function DataPanel() {
  const { selected, sample, file, pasted } = useTexts();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f) void loadTextFile(f);
  };
  const radio = (kind: TextKind, label: React.ReactNode, disabled = false) => (
    <label className={`radio${disabled ? ' disabled' : ''}`}>
      <input type="radio" name="text-source" value={kind} checked={selected === kind} disabled={disabled} onChange={() => selectText(kind)} />
      <span>{label}</span>
    </label>
  );

  return (
    <section className="panel panel-data" aria-labelledby="data-heading">
      <h2 id="data-heading">Data</h2>
      <fieldset className="text-sources">
        <legend>Evaluation text</legend>
        {radio(
          'sample',
          <>
            Built-in sample <span className="muted">({sample.name}{sample.status === 'ready' ? `, ${formatBytes(sample.text.length)}` : sample.status === 'loading' ? ', loading…' : ', unavailable'})</span>
          </>,
          sample.status === 'error',
        )}
        {radio('file', file ? <>Text file <span className="muted">({file.name}, {formatBytes(file.bytes)})</span></> : 'Text file (none chosen)', !file)}
        {radio('pasted', 'Pasted text')}
      </fieldset>

      <div
        className={`drop-zone drop-zone-small${over ? ' drop-over' : ''}`}
        data-testid="text-drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <span>Drop a .txt file here, or</span>
        <button type="button" onClick={() => input.current?.click()}>
          Choose a .txt file…
        </button>
        <input
          ref={input}
          type="file"
          accept=".txt,text/plain"
          className="visually-hidden"
          tabIndex={-1}
          aria-label="Text file"
          data-testid="text-file-input"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) void loadTextFile(f);
          }}
        />
      </div>

      <label className="stacked" htmlFor="paste-text">
        Or paste text
      </label>
      <textarea
        id="paste-text"
        data-testid="paste-text"
        rows={4}
        value={pasted}
        placeholder="Paste any text to evaluate…"
        onChange={(e) => setPastedText(e.currentTarget.value)}
      />

      <TokenLine />
      <ErrorAlert area="data" testId="data-error" />
      <Preview />
    </section>
  );
}
