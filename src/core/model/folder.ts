// A Hugging Face model folder: config.json, weights (model.safetensors, or shards listed in
// model.safetensors.index.json, or several *.safetensors), tokenizer files. This reads the config
// and every safetensors header (never the tensor data), resolves the family, and checks that the
// checkpoint holds every tensor the family needs, with the right number of elements.
import { BadModelFile, MissingFile } from '../errors';
import { type FileSource, byBaseName, readText } from '../io/file-source';
import { ConfigFields, type HFConfig, readCommonFields, unknownFields } from './config';
import { familyFor, type FamilyDef, type TensorPlan } from './families';
import { readSafetensorsHeader, type TensorInfo } from './safetensors';
import type { ModelSpec } from './spec';

/** Buffers some checkpoints store that are not parameters (causal masks, rotary caches). */
const IGNORED = [/\.attn\.bias$/, /\.attn\.masked_bias$/, /\.attention\.bias$/, /\.attention\.masked_bias$/, /rotary_emb\.inv_freq$/];

export interface ModelFolder {
  name: string;
  config: HFConfig;
  family: FamilyDef;
  spec: ModelSpec;
  /** HF tensors by name, across all weight files. */
  tensors: Map<string, TensorInfo>;
  plans: TensorPlan[];
  /** Files by base name. */
  files: Map<string, FileSource>;
  weightFiles: FileSource[];
  /** Tensors in the checkpoint that the family does not use (reported, not an error). */
  unused: string[];
  /**
   * What the load noticed and the user should know (shown on the model card and by the CLI):
   * config fields transformers' class does not define (ignored by transformers too), unused tensors.
   */
  notes: string[];
  /**
   * A config-only folder (config.json and a tokenizer, no weight files) opened to train from
   * scratch: no tensors; the loader makes every planned tensor with the family's initialisation.
   */
  fresh: boolean;
}

export interface OpenFolderOptions {
  /** Accept a folder with no weight files at all (training from scratch); its tensors are made fresh. */
  configOnly?: boolean;
}

/**
 * The tensor names of a checkpoint that has every tensor a family looks for (a config-only folder,
 * a random benchmark model): the family's plan is then the config's alone, with canonical HF names.
 */
export function anyTensorNames(): Set<string> {
  return new Proxy(new Set<string>(), { get: (t, k) => (k === 'has' ? () => true : k === 'size' ? Infinity : Reflect.get(t, k)) });
}

const quoteList = (xs: string[], n = 6) => xs.slice(0, n).map((x) => `"${x.slice(0, 60)}"`).join(', ') + (xs.length > n ? `, … (${xs.length} in all)` : '');

async function parseJsonFile(f: FileSource): Promise<unknown> {
  const text = await readText(f);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadModelFile(`${f.name} is not valid JSON (${(e as Error).message.slice(0, 80)}).`);
  }
}

/** Longest common folder prefix of the files, used as the model's display name. */
function folderName(files: readonly FileSource[]): string {
  const dirs = files.map((f) => f.name.split(/[\\/]/).slice(0, -1));
  const first = dirs[0] ?? [];
  let n = first.length;
  for (const d of dirs) {
    let i = 0;
    while (i < n && d[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).pop() ?? 'model';
}

/** Weight files in formats Prune Studio does not read. */
function otherWeightFiles(files: Map<string, FileSource>): string[] {
  return [...files.keys()].filter((n) => /\.(bin|pt|pth|gguf|onnx|h5|msgpack)$/.test(n));
}

async function weightFilesOf(files: Map<string, FileSource>): Promise<FileSource[]> {
  const index = files.get('model.safetensors.index.json');
  if (index) {
    const j = (await parseJsonFile(index)) as { weight_map?: unknown };
    if (typeof j !== 'object' || j === null || typeof j.weight_map !== 'object' || j.weight_map === null) {
      throw new BadModelFile('model.safetensors.index.json has no "weight_map" object.');
    }
    const shardNames = [...new Set(Object.values(j.weight_map as Record<string, unknown>))];
    if (!shardNames.every((s) => typeof s === 'string')) throw new BadModelFile('model.safetensors.index.json: weight_map values must be file names.');
    const missing = (shardNames as string[]).filter((s) => !files.has(s));
    if (missing.length) {
      throw new MissingFile(
        `model.safetensors.index.json lists ${shardNames.length} shard file(s); missing from the folder: ${missing.slice(0, 5).map((m) => JSON.stringify(m)).join(', ')}${missing.length > 5 ? ', …' : ''}.`,
      );
    }
    return (shardNames as string[]).sort().map((s) => files.get(s)!);
  }
  const st = [...files.values()].filter((f) => f.name.endsWith('.safetensors'));
  if (st.length === 0) {
    const other = otherWeightFiles(files);
    throw new MissingFile(
      `No .safetensors weights in the folder${other.length ? ` (found ${other.slice(0, 3).join(', ')}, which Prune Studio does not read; convert them to safetensors, e.g. with transformers' save_pretrained(safe_serialization=True))` : '; a folder of config.json and tokenizer alone can only be trained from scratch (finetune --from-scratch)'}.`,
    );
  }
  return st.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function openModelFolder(list: readonly FileSource[], opts: OpenFolderOptions = {}): Promise<ModelFolder> {
  const files = byBaseName(list);
  const cfgFile = files.get('config.json');
  if (!cfgFile) throw new MissingFile('The model folder has no config.json; it is needed to know the architecture and sizes.');
  const config = (await parseJsonFile(cfgFile)) as HFConfig;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new BadModelFile('config.json is not a JSON object.');
  const family = familyFor(config);
  const fresh = !!opts.configOnly && ![...files.keys()].some((n) => n.endsWith('.safetensors') || n === 'model.safetensors.index.json') && !otherWeightFiles(files).length;
  const weightFiles = fresh ? [] : await weightFilesOf(files);
  const tensors = new Map<string, TensorInfo>();
  for (const f of weightFiles) {
    const h = await readSafetensorsHeader(f);
    for (const [name, t] of h.tensors) {
      if (tensors.has(name)) throw new BadModelFile(`tensor "${name}" appears in both ${tensors.get(name)!.file.name} and ${f.name}.`);
      tensors.set(name, t);
    }
  }
  const names = fresh ? anyTensorNames() : new Set(tensors.keys());
  const fields = new ConfigFields(config, family.fields.aliases);
  const { dtype: configDtype } = readCommonFields(fields);
  const spec = family.spec(fields, names);
  spec.configDtype = configDtype;
  const plans = family.plan(spec, names);
  const used = new Set<string>();
  for (const p of fresh ? [] : plans) {
    const t = tensors.get(p.hf);
    if (!t) {
      throw new BadModelFile(
        `the weights have no tensor "${p.hf}", which this ${spec.family} config.json requires. Are the weight files complete and do they belong to this config.json?`,
      );
    }
    const want = p.hfShape.reduce((a, b) => a * b, 1);
    const have = t.shape.reduce((a, b) => a * b, 1);
    if (want !== have) {
      throw new BadModelFile(
        `tensor "${p.hf}" has shape [${t.shape.join(', ')}] (${have} values) but config.json implies ${p.outputs.map((o) => `[${o.shape.join(', ')}]`).join(' + ')} (${want} values).`,
      );
    }
    used.add(p.hf);
  }
  const unused = fresh ? [] : [...names].filter((n) => !used.has(n) && !IGNORED.some((r) => r.test(n)));
  const notes: string[] = [];
  // A config-only folder's tensors as the checkpoint would store them (F32, no data: the loader makes them).
  if (fresh) for (const p of plans) tensors.set(p.hf, { name: p.hf, dtype: 'F32', shape: p.hfShape, begin: 0, end: 0, file: cfgFile });
  if (fresh) notes.push('The folder has no weights: every tensor was made fresh, as transformers initialises this family, to train from scratch.');
  const unknown = unknownFields(fields, family.fields);
  if (unknown.length) {
    notes.push(`config.json field(s) ${quoteList(unknown)} are not fields of transformers' ${family.fields.configClass}: transformers ignores them, and so does Prune Studio.`);
  }
  if (unused.length) notes.push(`tensor(s) ${quoteList(unused)} are not used by this ${spec.family} config (transformers would not load them either).`);
  // dtype for the model card: the one holding most bytes.
  const byDtype = new Map<string, number>();
  for (const t of tensors.values()) byDtype.set(t.dtype, (byDtype.get(t.dtype) ?? 0) + (t.end - t.begin));
  spec.dtype = [...byDtype.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  return { name: folderName(list), config, family, spec, tensors, plans, files, weightFiles, unused, notes, fresh };
}
