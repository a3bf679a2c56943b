// RunRecords for the store and chart tests: numbered from 1 in each file, with the file's defaults
// and each run's own fields over plain ones.
import type { RunRecord } from '../../src/store/prune';

export function runFactory(defaults: Partial<RunRecord> = {}): (p?: Partial<RunRecord>) => RunRecord {
  let id = 0;
  return (p = {}) => ({
    id: ++id,
    source: 'sweep',
    method: 'wanda',
    target: { kind: 'unstructured', sparsity: 0.5 },
    label: 'x',
    sparsity: 0.5,
    ppl: 10,
    nll: 2,
    seconds: 1,
    pruneSeconds: 1,
    layers: [],
    warnings: [],
    evalKey: 'A',
    evalLabel: 'A',
    calibLabel: 'c',
    ...defaults,
    ...p,
  });
}
