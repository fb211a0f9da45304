/** The system prompt, assembled from the agent's workspace files (OpenClaw's names and order). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CONTEXT_FILES = [
  'AGENTS.md',
  'SOUL.md',
  'IDENTITY.md',
  'USER.md',
  'TOOLS.md',
  'MEMORY.md',
] as const;

/** Per file, so one runaway MEMORY.md cannot eat the whole context window. */
const MAX_FILE_CHARS = 20_000;

const PREAMBLE =
  'You are a personal assistant running inside Switchyard. The sections below come from files in your workspace; follow them.';

export async function buildSystemPrompt(
  workspace: string,
): Promise<{ systemPrompt: string; contextFiles: string[] }> {
  const sections: string[] = [PREAMBLE];
  const contextFiles: string[] = [];
  for (const name of CONTEXT_FILES) {
    let text: string;
    try {
      text = (await readFile(join(workspace, name), 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (!text) continue;
    const clipped =
      text.length > MAX_FILE_CHARS ? `${text.slice(0, MAX_FILE_CHARS)}\n[… ${name} truncated]` : text;
    sections.push(`## ${name}\n\n${clipped}`);
    contextFiles.push(name);
  }
  return { systemPrompt: sections.join('\n\n'), contextFiles };
}
