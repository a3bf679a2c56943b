// Family registry: model_type -> family mapping. Adding a family = one file + one line here.
import { UnsupportedArchitecture } from '../../errors';
import type { FamilyDef, HFConfig } from './common';
import { gpt2 } from './gpt2';
import { gptNeox } from './gpt_neox';
import { llama, qwen2 } from './llama';
import { opt } from './opt';
import { phi } from './phi';

export const FAMILY_DEFS: FamilyDef[] = [llama, qwen2, gpt2, opt, gptNeox, phi];

export const SUPPORTED_MODEL_TYPES = FAMILY_DEFS.flatMap((f) => f.modelTypes);

export function familyFor(config: HFConfig): FamilyDef {
  const mt = config.model_type;
  if (typeof mt !== 'string' || mt === '') {
    throw new UnsupportedArchitecture(
      `config.json has no "model_type", so the architecture is unknown. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
    );
  }
  const f = FAMILY_DEFS.find((d) => d.modelTypes.includes(mt));
  if (!f) {
    throw new UnsupportedArchitecture(
      `Architecture "${mt.slice(0, 64)}" is not supported. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
    );
  }
  return f;
}

export type { FamilyDef, HFConfig, TensorPlan } from './common';
