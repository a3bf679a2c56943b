import { useErrors, type ErrorArea } from '../store/errors';

const TITLES: Record<string, string> = {
  BadModelFile: 'Bad model file',
  MissingFile: 'Missing file',
  UnsupportedArchitecture: 'Unsupported architecture',
  BadTokenizer: 'Bad tokenizer',
  BadText: 'Unusable text',
  BadOption: 'Invalid setting',
  TooLargeForDevice: 'Too large for this GPU',
  NoWebGPU: 'WebGPU unavailable',
  DeviceLost: 'GPU device lost',
  GpuError: 'GPU error',
  NumericalError: 'Numerical error',
  StorageError: 'Browser storage',
  HubError: 'Hugging Face Hub',
  NetworkError: 'No connection',
  Cancelled: 'Cancelled',
};

export function errorTitle(name: string): string {
  return TITLES[name] ?? 'Error';
}

/** The error of one area, shown next to where the user acted. */
export function ErrorAlert({ area, testId }: { area: ErrorArea; testId: string }) {
  const err = useErrors((s) => s.errors[area]);
  const clear = useErrors((s) => s.clearError);
  if (!err) return null;
  return (
    <div role="alert" className="alert" data-testid={testId} data-error-name={err.name}>
      <div className="alert-body">
        <strong className="alert-title">{errorTitle(err.name)}</strong>
        <span className="alert-message">{err.message}</span>
      </div>
      <button type="button" className="icon-button" aria-label={`Dismiss ${errorTitle(err.name).toLowerCase()} message`} onClick={() => clear(area)}>
        ×
      </button>
    </div>
  );
}
