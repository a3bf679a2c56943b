// A labelled input: a <label htmlFor> followed by its <input type="number"> (or "text"), as
// siblings (so they sit in the two columns of a form grid). The value stays the raw text of the
// input.
import { type ReactNode } from 'react';

export interface NumberFieldProps {
  id: string;
  testId: string;
  label: ReactNode;
  /** Tooltip on the label. */
  title?: string;
  value: string;
  onChange: (value: string) => void;
  min?: number;
  max?: number;
  step?: number | 'any';
  /** 'numeric' for whole numbers (the default), 'decimal' for fractions. */
  inputMode?: 'numeric' | 'decimal';
  disabled?: boolean;
  placeholder?: string;
  type?: 'number' | 'text';
}

export function NumberField({ id, testId, label, title, value, onChange, min, max, step = 1, inputMode = 'numeric', disabled, placeholder, type = 'number' }: NumberFieldProps) {
  const number = type === 'number';
  return (
    <>
      <label htmlFor={id} title={title}>
        {label}
      </label>
      <input
        id={id}
        data-testid={testId}
        type={type}
        inputMode={number ? inputMode : undefined}
        min={number ? min : undefined}
        max={number ? max : undefined}
        step={number ? step : undefined}
        placeholder={placeholder}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.currentTarget.value)}
      />
    </>
  );
}

/** A fraction box inside a sentence ("[25] % of the MLP neurons"): named by aria-label, not a <label>. */
export function InlineDecimal({ testId, label, value, onChange, disabled, max }: { testId: string; label: string; value: string; onChange: (value: string) => void; disabled?: boolean; max?: number }) {
  return (
    <input
      type="number"
      min={0}
      max={max}
      {...DECIMAL}
      aria-label={label}
      data-testid={testId}
      value={value}
      disabled={disabled}
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

/** A labelled text input (lists, patterns) in a form grid. */
export function TextField(props: Omit<NumberFieldProps, 'type' | 'min' | 'max' | 'step' | 'inputMode'>) {
  return <NumberField {...props} type="text" />;
}

/** A fraction typed in a box: decimal keyboard, any step. */
export const DECIMAL = { step: 'any', inputMode: 'decimal' } as const;

/**
 * Binds fields to a settings object: `field('topK', 'gen-top-k')` gives the id (also the test id),
 * the value, the change handler and `disabled`, so each field is written once with what is its own.
 */
export function fieldsOf<S>(values: S, set: (patch: Partial<S>) => void, disabled?: boolean) {
  return (key: keyof S, id: string) => ({
    id,
    testId: id,
    value: String(values[key] ?? ''),
    disabled,
    onChange: (v: string) => set({ [key]: v } as Partial<S>),
  });
}

/** A labelled <select> in a form grid: the options' values and labels from a table. */
export function SelectField<V extends string>(props: {
  id: string;
  label: ReactNode;
  value: V;
  labels: Readonly<Record<V, string>>;
  onChange: (value: V) => void;
  disabled?: boolean;
  describedBy?: string;
}) {
  const { id, label, value, labels, onChange, disabled, describedBy } = props;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <select id={id} data-testid={id} value={value} disabled={disabled} aria-describedby={describedBy} onChange={(e) => onChange(e.currentTarget.value as V)}>
        {(Object.keys(labels) as V[]).map((k) => (
          <option key={k} value={k}>
            {labels[k]}
          </option>
        ))}
      </select>
    </>
  );
}
