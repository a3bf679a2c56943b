import { DataPanel } from './DataPanel';
import { EvalPanel } from './EvalPanel';
import { GenerationPanel } from './GenerationPanel';
import { Header } from './Header';
import { ModelPanel } from './ModelPanel';
import { PlannerPanel } from './PlannerPanel';
import { ContextualPanel } from './ContextualPanel';
import { TrainPanel } from './TrainPanel';
import { MethodPanel } from './prune/MethodPanel';
import { ResultsPanel } from './prune/ResultsPanel';

// One screen, three columns: what goes in (model, texts), what to do (method, evaluation), and
// what came out (results with the chart, runs, layers, speed & size; the generation playground;
// the compute planner).
export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" className="grid">
        <div className="column column-inputs">
          <ModelPanel />
          <DataPanel />
        </div>
        <div className="column column-actions">
          <MethodPanel />
          <ContextualPanel />
          <TrainPanel />
          <EvalPanel />
        </div>
        <div className="column column-outputs">
          <ResultsPanel />
          <GenerationPanel />
          <PlannerPanel />
        </div>
      </main>
      <footer className="app-footer muted">
        Everything runs in this tab on your GPU through WebGPU; no model, text or result leaves your computer.
      </footer>
    </div>
  );
}
