// One fact of a result or a model card: a term and its value, in a <dl> of facts.
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
