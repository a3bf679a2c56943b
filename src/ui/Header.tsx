import { restartEngine } from '../store/engine-actions';
import { useEngine } from '../store/engine-status';
import { useOffline } from '../pwa';
import { ErrorAlert } from './ErrorAlert';

function AdapterBadge() {
  const { status, adapter } = useEngine();
  let text: string;
  switch (status) {
    case 'starting':
      text = 'Starting GPU engine…';
      break;
    case 'ready':
      text = adapter ? adapterName(adapter) : 'GPU ready';
      break;
    case 'no-webgpu':
      text = 'No WebGPU in this browser';
      break;
    case 'no-adapter':
      text = 'WebGPU: no GPU adapter';
      break;
    case 'failed':
      text = 'GPU engine failed to start';
      break;
    case 'lost':
      text = 'GPU device lost';
      break;
  }
  return (
    <div className="adapter" data-testid="adapter" data-status={status} aria-live="polite">
      <span className={`dot dot-${status}`} aria-hidden="true" />
      <span>
        <span className="visually-hidden">GPU: </span>
        {text}
        {status === 'ready' && adapter?.isSoftware ? <span className="badge" title="A software rasteriser: correct but slow">software</span> : null}
      </span>
    </div>
  );
}

/** Whether the studio works offline (service worker installed, demo model cached). */
function OfflineBadge() {
  const offline = useOffline((s) => s.offline);
  if (offline.status === 'unsupported') return null;
  const text = { installing: 'Preparing offline use…', ready: 'Works offline', failed: 'Offline use unavailable' }[offline.status];
  const title =
    offline.status === 'failed'
      ? offline.message
      : 'The app and the demo model are stored in this browser; models you drop are never uploaded or cached.';
  return (
    <div className="offline" data-testid="offline-status" data-status={offline.status} title={title} aria-live="polite">
      {text}
    </div>
  );
}

/** A readable adapter name; the "software" flag is shown separately. */
export function adapterName(a: { description: string; vendor: string; architecture: string }): string {
  const d = a.description.replace(/\s*\[software\]\s*/i, ' ').trim();
  const va = [a.vendor, a.architecture].filter(Boolean).join(' ');
  // Software adapters often report no description: "(google)" says less than "google swiftshader".
  if (!d || /^\([^)]*\)$/.test(d)) return va || d || 'Unknown GPU';
  return d;
}

function NoWebGpuNotice() {
  const { status, message } = useEngine();
  if (status !== 'no-webgpu' && status !== 'no-adapter') return null;
  return (
    <section className="notice" aria-labelledby="no-webgpu-title" data-testid="no-webgpu">
      <h2 id="no-webgpu-title">{status === 'no-webgpu' ? 'This browser has no WebGPU' : 'No GPU adapter available'}</h2>
      <p>
        Prune Studio runs language models on your own GPU through WebGPU. {message}
      </p>
      <p>WebGPU is available in:</p>
      <ul>
        <li>Chrome and Edge 113 or later (Windows, macOS, ChromeOS; Android from 121). On Linux it may need chrome://flags/#enable-unsafe-webgpu.</li>
        <li>Safari 26 or later (macOS, iOS, iPadOS).</li>
        <li>Firefox 141 or later on Windows.</li>
      </ul>
      <p>
        The rest of this page still works: you can read the built-in sample text and prepare your own texts. Loading a model,
        counting tokens and measuring perplexity need WebGPU. Nothing is ever uploaded.
      </p>
    </section>
  );
}

function DeviceLostNotice() {
  const { status, message } = useEngine();
  if (status !== 'lost') return null;
  return (
    <section className="notice" role="alert" data-testid="device-lost">
      <h2>The GPU device was lost</h2>
      <p>{message} The browser or driver reset the GPU; the loaded weights are gone.</p>
      <button type="button" onClick={() => void restartEngine()}>
        Restart the engine and reload the model
      </button>
    </section>
  );
}

export function Header() {
  const status = useEngine((s) => s.status);
  return (
    <>
      <header className="app-header">
        <div className="brand">
          <h1>Prune Studio</h1>
          <p className="tagline">Compress small language models on your own GPU. Nothing is uploaded.</p>
        </div>
        <div className="header-status">
          <OfflineBadge />
          <AdapterBadge />
        </div>
      </header>
      <NoWebGpuNotice />
      <DeviceLostNotice />
      {status === 'failed' ? (
        <div className="engine-error">
          <ErrorAlert area="engine" testId="engine-error" />
          <button type="button" onClick={() => void restartEngine()}>
            Try again
          </button>
        </div>
      ) : null}
    </>
  );
}
