// The frozen set of a training run from what a user types: a comma-separated list of tensor names
// or name prefixes in the engine's canonical naming ("embed" → embed.tokens and embed.positions,
// "layers.0" → every tensor of decoder layer 0, "final_norm", "head"). Every entry must match a
// tensor, and something must stay trainable.
import { BadOption } from '../errors';

/** The frozen tensor names for `list` over the model's tensor `names`. */
export function frozenNames(names: readonly string[], list: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of list) {
    const entry = raw.trim();
    if (!entry) continue;
    const hit = names.filter((n) => n === entry || n.startsWith(`${entry}.`));
    if (!hit.length) {
      const groups = [...new Set(names.map((n) => (n.startsWith('layers.') ? n.split('.').slice(0, 2).join('.') : n.split('.')[0])))];
      throw new BadOption(`Freeze: "${entry}" names no tensor of this model. Give tensor names or prefixes such as ${groups.slice(0, 6).join(', ')}${groups.length > 6 ? ', …' : ''}.`);
    }
    for (const n of hit) out.add(n);
  }
  if (out.size === names.length) throw new BadOption('Freeze: every tensor of the model would be frozen; leave something to train.');
  return [...out];
}

/** "embed, layers.0" → ["embed", "layers.0"]. */
export function parseFreezeList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
