import { DataPanel } from './DataPanel';
import { EvalPanel } from './EvalPanel';
import { Header } from './Header';
import { ModelPanel } from './ModelPanel';

export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" className="grid">
        <ModelPanel />
        <DataPanel />
        <EvalPanel />
      </main>
      <footer className="app-footer muted">
        Everything runs in this tab on your GPU through WebGPU; no model, text or result leaves your computer.
      </footer>
    </div>
  );
}
