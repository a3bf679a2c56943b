import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import { TEXT_ERROR_AREA, loadTextFile, selectText, setPastedText } from '../store/text-actions';
import { SLOT_TITLES, selectedText, useTexts, type TextKind, type TextSlotName } from '../store/texts';
import { ErrorAlert } from './ErrorAlert';
import { formatBytes, formatInt } from './format';

/** data-testid of an element of a slot: the evaluation slot keeps the original ids. */
function tid(slot: TextSlotName, name: string): string {
  return slot === 'eval' ? name : `calib-${name}`;
}

const PURPOSE: Record<TextSlotName, string> = {
  calib: 'Pruning measures the inputs of every layer on this text (calibration).',
  eval: 'Perplexity is measured on this text, before and after pruning. Keep it apart from the calibration text.',
};

function TokenLine({ slot }: { slot: TextSlotName }) {
  const tokens = useTexts((s) => s[slot].tokens);
  const chars = useTexts((s) => selectedText(s[slot]).length);
  let tok = '';
  switch (tokens.status) {
    case 'idle':
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
    <p className="token-line" data-testid={tid(slot, 'token-count')} aria-live="polite" data-tokens={tokens.status === 'done' ? tokens.tokens : undefined}>
      {chars ? `${formatInt(chars)} characters` : 'No text'}
      {tok ? ` · ${tok}` : ''}
    </p>
  );
}

function Preview({ slot }: { slot: TextSlotName }) {
  const text = useTexts((s) => selectedText(s[slot]));
  if (!text) return null;
  const head = text.length > 400 ? `${text.slice(0, 400)}…` : text;
  return (
    <details className="preview">
      <summary>Beginning of the text</summary>
      <blockquote>{head}</blockquote>
    </details>
  );
}

function TextSlotEditor({ slot }: { slot: TextSlotName }) {
  const { selected, sample, file, pasted } = useTexts((s) => s[slot]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const title = SLOT_TITLES[slot];

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f) void loadTextFile(f, slot);
  };
  const radio = (kind: TextKind, label: ReactNode, disabled = false) => (
    <label className={`radio${disabled ? ' disabled' : ''}`}>
      <input
        type="radio"
        name={`${slot}-text-source`}
        value={kind}
        checked={selected === kind}
        disabled={disabled}
        data-testid={`${slot}-source-${kind}`}
        onChange={() => selectText(kind, slot)}
      />
      <span>{label}</span>
    </label>
  );

  return (
    <fieldset className="text-slot" data-testid={`${slot}-text`}>
      <legend>{title}</legend>
      <p className="muted slot-purpose">{PURPOSE[slot]}</p>
      <div className="text-sources">
        {radio(
          'sample',
          <>
            Built-in sample{' '}
            <span className="muted">
              ({sample.name}
              {sample.status === 'ready' ? `, ${formatBytes(sample.text.length)}` : sample.status === 'loading' ? ', loading…' : ', unavailable'})
            </span>
          </>,
          sample.status === 'error',
        )}
        {radio(
          'file',
          file ? (
            <>
              Text file <span className="muted">({file.name}, {formatBytes(file.bytes)})</span>
            </>
          ) : (
            'Text file (none chosen)'
          ),
          !file,
        )}
        {radio('pasted', 'Pasted text')}
      </div>

      <div
        className={`drop-zone drop-zone-small${over ? ' drop-over' : ''}`}
        data-testid={tid(slot, 'text-drop-zone')}
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
          aria-label={`${title} file`}
          data-testid={tid(slot, 'text-file-input')}
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) void loadTextFile(f, slot);
          }}
        />
      </div>

      <label className="stacked" htmlFor={`${slot}-paste-text`}>
        Or paste text
      </label>
      <textarea
        id={`${slot}-paste-text`}
        data-testid={tid(slot, 'paste-text')}
        rows={2}
        value={pasted}
        placeholder={slot === 'eval' ? 'Paste any text to evaluate…' : 'Paste calibration text…'}
        onChange={(e) => setPastedText(e.currentTarget.value, slot)}
      />

      <TokenLine slot={slot} />
      <ErrorAlert area={TEXT_ERROR_AREA[slot]} testId={tid(slot, 'data-error')} />
      <Preview slot={slot} />
    </fieldset>
  );
}

export function DataPanel() {
  return (
    <section className="panel panel-data" aria-labelledby="data-heading">
      <h2 id="data-heading">Data</h2>
      <TextSlotEditor slot="calib" />
      <TextSlotEditor slot="eval" />
    </section>
  );
}
