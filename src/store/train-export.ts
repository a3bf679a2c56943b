// The loss curve of a training run as a file: CSV with one row per step (loss, and where there is
// one, the KL to the teacher, the held-out perplexity measured after that step and the sparsity set
// by a gradual-pruning step before it), and the chart as SVG / PNG (ui/prune/chart-export.ts).
import type { FinetuneResult } from '../core/jobs/finetune';
import { runFileExport, safeName } from './export-actions';
import { useModel } from './model';
import { useTrain } from './train';
import { BadOption } from '../core/errors';

/**
 * step,loss,kl,ppl,sparsity (and squarehead when the run distilled hidden states) — empty cells
 * where a column has no value at that step.
 */
export function lossCsv(r: Pick<FinetuneResult, 'losses' | 'kl' | 'evals' | 'pruning' | 'ppl_start'> & { features?: number[] }): string {
  const ppl = new Map(r.evals.map((e) => [e.step, e.ppl]));
  const pruned = new Map(r.pruning.map((p) => [p.step + 1, p.sparsity]));
  const sq = r.features?.length ? r.features : null;
  const rows = [`step,loss,kl,ppl,sparsity${sq ? ',squarehead' : ''}`];
  if (r.ppl_start !== null) rows.push(`0,,,${r.ppl_start},${sq ? ',' : ''}`);
  r.losses.forEach((loss, i) => {
    const step = i + 1;
    rows.push([step, loss, r.kl[i] ?? '', ppl.get(step) ?? '', pruned.get(step) ?? '', ...(sq ? [sq[i] ?? ''] : [])].join(','));
  });
  return `${rows.join('\n')}\n`;
}

export function saveLossCsv(): Promise<void> {
  const r = useTrain.getState().result;
  const model = useModel.getState().summary?.name ?? 'model';
  return runFileExport(
    'csv',
    { name: `${safeName(model)}-training-loss.csv`, type: 'text/csv', description: 'CSV table', extensions: ['.csv'] },
    () => lossCsv(r!),
    () => {
      if (!r) throw new BadOption('There is no finished training run to export.');
    },
  );
}
