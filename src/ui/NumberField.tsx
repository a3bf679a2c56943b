// A labelled number input: a <label htmlFor> followed by its <input type="number">, as siblings
// (so they sit in the two columns of a form grid). The value stays the raw text of the input.
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
  step?: number | 'any';
  /** 'numeric' for whole numbers (the default), 'decimal' for fractions. */
  inputMode?: 'numeric' | 'decimal';
  disabled?: boolean;
  placeholder?: string;
}

export function NumberField({ id, testId, label, title, value, onChange, min, step = 1, inputMode = 'numeric', disabled, placeholder }: NumberFieldProps) {
  return (
    <>
      <label htmlFor={id} title={title}>
        {label}
      </label>
      <input
        id={id}
        data-testid={testId}
        type="number"
        inputMode={inputMode}
        min={min}
        step={step}
        placeholder={placeholder}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.currentTarget.value)}
      />
    </>
  );
}
