/**
 * Skills in the agent's turn: the prompt lists the skills the agent may use (name, description,
 * where its SKILL.md is) and the `read` tool opens them, as in OpenClaw. Which skills exist and
 * whether they can run here is skills/' business; this file wires it into a turn.
 */
import type { SkillCatalog } from '../../skills/catalog.js';
import { skillsPromptSection } from '../../skills/prompt.js';
import type { SkillFileError } from '../../skills/skill-file.js';
import { createReadTool } from './builtin-tools/read.js';
import type { AgentToolDefinition } from './tools.js';

export interface AgentSkillsDeps {
  /** The skills of the agent whose workspace is `workspace`, judged against the tools its turn offers. */
  catalog(workspace: string, tools: readonly string[]): Promise<SkillCatalog>;
  /** Told once about each SKILL.md that cannot be read (file:line: problem). */
  onError?(error: SkillFileError): void;
}

export interface TurnSkills {
  /** Appended to the system prompt; empty when no skill is offered. */
  section: string;
  /** The names of the skills offered. */
  names: string[];
}

export const READ_TOOL = 'read';

export function skillsForTurns(deps: AgentSkillsDeps, workspaces: () => string[]) {
  const reported = new Set<string>();
  return {
    /** The `read` tool, confined to the skill folders of every agent. */
    readTool(): AgentToolDefinition {
      return createReadTool({
        folders: async () => {
          const catalogs = await Promise.all(workspaces().map((w) => deps.catalog(w, [])));
          return [...new Set(catalogs.flatMap((c) => c.skills.map((s) => s.dir)))];
        },
      });
    },

    /** The skills a turn offers, given the tools it offers (without `read`, none: they could not be read). */
    async forTurn(workspace: string, tools: readonly string[]): Promise<TurnSkills> {
      if (!tools.includes(READ_TOOL)) return { section: '', names: [] };
      const catalog = await deps.catalog(workspace, tools);
      for (const error of catalog.errors) {
        if (reported.has(error.message)) continue;
        reported.add(error.message);
        deps.onError?.(error);
      }
      return {
        section: skillsPromptSection(catalog.offered, { readTool: READ_TOOL }),
        names: catalog.offered.map((s) => s.name),
      };
    },
  };
}
