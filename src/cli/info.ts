// `adapter`, `info` and `eval`: the GPU the engine finds, a model's card, a text's perplexity.
import { type CliValues, evalOptions, need, printer, progressLine, readTextFile } from './common';
import { loadOptions, withEngine, withModel } from './load';

export async function runAdapter(values: CliValues): Promise<number> {
  return withEngine(async (engine) => {
    printer(values)({ ...engine.adapter }, `${engine.adapter.description}${engine.adapter.isSoftware ? ' (software)' : ''}`);
    return 0;
  });
}

export async function runInfo(values: CliValues): Promise<number> {
  return withModel(need(values, 'model'), async (engine, m) => {
    const { tensors, ...card } = m;
    printer(values)(
      { ...card, tensors: tensors.length, adapter: engine.adapter },
      `${m.name}: ${m.architecture} (${m.family}), ${m.parameters.toLocaleString()} parameters, ${m.layers} layers, hidden ${m.hidden}, ${m.heads} heads (${m.kvHeads} KV), ffn ${m.ffn}, vocab ${m.vocabSize}, ${m.dtype}, ${m.bytes.toLocaleString()} bytes\nadapter: ${engine.adapter.description}`,
    );
    return 0;
  }, loadOptions(values));
}

export async function runEval(values: CliValues): Promise<number> {
  const model = need(values, 'model');
  const text = readTextFile(need(values, 'text'));
  const { seqlen, maxWindows } = evalOptions(values);
  return withModel(model, async (engine) => {
    const progress = progressLine(values);
    const r = await engine.perplexity(text, { seqlen, maxWindows }, progress.update);
    progress.end();
    printer(values)(
      { ppl: r.ppl, nll: r.nll, windows: r.windows, tokens: r.tokens, seconds: r.seconds, adapter: r.adapter },
      `perplexity ${r.ppl.toFixed(4)} (mean NLL ${r.nll.toFixed(6)}) over ${r.windows} windows, ${r.tokens} predicted tokens, ${r.seconds.toFixed(2)} s on ${r.adapter}`,
    );
    return 0;
  }, loadOptions(values));
}
