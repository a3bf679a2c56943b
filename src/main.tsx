import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { bootstrap } from './store/bootstrap';
import { registerServiceWorker } from './pwa';
import { getClient } from './store/client';
import './ui/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
// Outside React so StrictMode's double effects do not start two engines.
void bootstrap();
void registerServiceWorker();
// Fault injection for tests and demos (only with ?faults in the URL): lose the GPU device now.
if (new URLSearchParams(location.search).has('faults')) {
  (window as unknown as { __pruneStudioFaults: unknown }).__pruneStudioFaults = {
    loseDevice: () => getClient().call({ type: 'loseDevice' }),
  };
}
