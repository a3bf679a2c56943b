// Tokenizers through @huggingface/tokenizers, from tokenizer.json (+ tokenizer_config.json), or
// from a GPT-2-style vocab.json + merges.txt pair, for which we build the equivalent
// tokenizer.json (byte-level BPE, as HF's GPT2TokenizerFast converts it).
import { Tokenizer } from '@huggingface/tokenizers';
import { BadTokenizer, MissingFile } from '../errors';
import { type FileSource, readText } from '../io/file-source';

export interface TextTokenizer {
  /** Token ids with the tokenizer's default special tokens (e.g. BOS first for llama). */
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** Size of the id space the tokenizer can produce (vocab + added tokens). */
  readonly size: number;
  readonly kind: 'tokenizer.json' | 'vocab.json+merges.txt';
}

async function parseJson(f: FileSource): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(await readText(f));
  } catch {
    throw new BadTokenizer(`${f.name} is not valid JSON.`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadTokenizer(`${f.name} is not a JSON object.`);
  return v as Record<string, unknown>;
}

/** tokenizer.json equivalent of a byte-level BPE vocab.json + merges.txt (GPT-2, OPT, ...). */
export function byteLevelTokenizerJson(
  vocab: Record<string, number>,
  mergesTxt: string,
  config: Record<string, unknown>,
): Record<string, unknown> {
  const merges = mergesTxt
    .split(/\r?\n/)
    .filter((l) => l.length > 0 && !l.startsWith('#version'))
    .map((l) => {
      const parts = l.split(' ');
      if (parts.length !== 2) throw new BadTokenizer(`merges.txt: line "${l.slice(0, 40)}" is not a pair of symbols.`);
      return l;
    });
  const tokenName = (k: string): string | null => {
    const v = config[k];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
    return null;
  };
  // Without a tokenizer_config.json, transformers' GPT2Tokenizer(Fast) takes "<|endoftext|>" as its
  // BOS, EOS and UNK (its defaults), so that text in the input is the special token, not characters.
  const gpt2Default = (k: string) => (k === 'pad_token' || Object.keys(config).length > 0 ? null : '<|endoftext|>');
  const specials = ['bos_token', 'eos_token', 'unk_token', 'pad_token']
    .map((k) => tokenName(k) ?? gpt2Default(k))
    .filter((t): t is string => t !== null && Object.hasOwn(vocab, t));
  const added = [...new Set(specials)].map((content) => ({
    id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const bos = tokenName('bos_token');
  // OPT's tokenizer prepends its BOS ("</s>"); GPT-2's adds nothing. tokenizer_config says which.
  const addBos = config.add_bos_token === true && bos !== null && Object.hasOwn(vocab, bos);
  return {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: config.add_prefix_space === true, trim_offsets: true, use_regex: true },
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
        }
      : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab, merges,
    },
  };
}

/**
 * Size of the id space (vocab + added tokens), checking that every id is a non-negative integer:
 * model.vocab is a token → id map (BPE, WordPiece) or an array of [token, score] (Unigram).
 */
function idSpace(json: Record<string, unknown>): number {
  const model = json.model as { vocab?: unknown };
  let size = 0;
  const id = (v: unknown, where: string): number => {
    if (v === undefined || v === null) throw new BadTokenizer(`tokenizer: ${where} has no id.`);
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new BadTokenizer(`tokenizer: ${where} has id ${String(JSON.stringify(v) ?? typeof v).slice(0, 20)}, not a non-negative integer.`);
    return v as number;
  };
  if (Array.isArray(model.vocab)) size = model.vocab.length;
  else if (model.vocab && typeof model.vocab === 'object') for (const [t, v] of Object.entries(model.vocab)) size = Math.max(size, id(v, `token ${JSON.stringify(t.slice(0, 20))}`) + 1);
  else if (model.vocab !== undefined) throw new BadTokenizer('tokenizer: model.vocab must be an object or an array.');
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new BadTokenizer('tokenizer.json: "added_tokens" must be an array.');
  for (const a of added) {
    if (typeof a !== 'object' || a === null) throw new BadTokenizer('tokenizer.json: each of "added_tokens" must be an object.');
    size = Math.max(size, id((a as { id?: unknown }).id, 'an added token') + 1);
  }
  return size;
}

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new BadTokenizer(`The tokenizer failed to ${what}: ${(e as Error).message}`);
  }
}

/**
 * The tokenizer files of a model folder (indexed by base name): tokenizer.json, or the equivalent
 * built from vocab.json + merges.txt, and tokenizer_config.json ({} when absent).
 */
export async function readTokenizerFiles(files: Map<string, FileSource>): Promise<{ json: Record<string, unknown>; config: Record<string, unknown>; kind: TextTokenizer['kind'] }> {
  const cfgFile = files.get('tokenizer_config.json');
  const config = cfgFile ? await parseJson(cfgFile) : {};
  const tj = files.get('tokenizer.json');
  if (tj) {
    const json = await parseJson(tj);
    if (typeof json.model !== 'object' || json.model === null) throw new BadTokenizer('tokenizer.json has no "model" section.');
    return { json, config, kind: 'tokenizer.json' };
  }
  const v = files.get('vocab.json');
  const m = files.get('merges.txt');
  if (!v || !m) {
    throw new MissingFile(
      'No tokenizer found: the model folder needs tokenizer.json (with tokenizer_config.json), or vocab.json and merges.txt for a GPT-2-style tokenizer.',
    );
  }
  const vocab = await parseJson(v);
  if (!Object.values(vocab).every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) throw new BadTokenizer('vocab.json must map tokens to non-negative integer ids.');
  return { json: byteLevelTokenizerJson(vocab as Record<string, number>, await readText(m), config), config, kind: 'vocab.json+merges.txt' };
}

/** Load the tokenizer of a model folder (files indexed by base name). */
export async function loadTokenizer(files: Map<string, FileSource>): Promise<TextTokenizer> {
  const { json, config, kind } = await readTokenizerFiles(files);
  const size = idSpace(json);
  let tok: Tokenizer;
  let probe: number[];
  try {
    tok = new Tokenizer(json, config);
    probe = tok.encode('Hello world, 1999: naïve café.').ids;
  } catch (e) {
    throw new BadTokenizer(`The tokenizer could not be built from ${kind}: ${(e as Error).message}`);
  }
  // Ids outside the vocabulary would index past the embedding table.
  const outside = probe.find((id) => !(Number.isSafeInteger(id) && id >= 0 && id < size));
  if (outside !== undefined) throw new BadTokenizer(`The ${kind} tokenizer produces id ${String(JSON.stringify(outside) ?? 'none').slice(0, 30)}, outside its vocabulary of ${size} ids; the file is inconsistent.`);
  return {
    kind,
    size,
    // The library throws plain Errors (and refuses to decode an empty list): name them.
    encode: (text) => wrap('encode', () => tok.encode(text).ids),
    decode: (ids) => (ids.length === 0 ? '' : wrap('decode', () => tok.decode(ids, { skip_special_tokens: true }))),
  };
}
