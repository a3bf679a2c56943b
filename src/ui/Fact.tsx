// One fact of a result or a model card (a term and its value, in a <dl> of facts), and the
// warnings of a run under its facts.
import type { ReactNode } from 'react';

export function Fact({ label, children, testId, value }: { label: ReactNode; children: ReactNode; testId?: string; value?: string }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd data-testid={testId} data-value={value}>
        {children}
      </dd>
    </div>
  );
}

/** The warnings of a run (open when there are few, unless told). */
export function Warnings({ warnings, testId, open = warnings.length <= 3 }: { warnings: readonly string[]; testId?: string; open?: boolean }) {
  if (!warnings.length) return null;
  return (
    <details className="warnings" open={open} data-testid={testId}>
      <summary>{warnings.length} warning(s)</summary>
      <ul>
        {warnings.map((w, i) => (
          <li key={i}>{w}</li>
        ))}
      </ul>
    </details>
  );
}
