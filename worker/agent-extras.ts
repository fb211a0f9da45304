/**
 * What a production worker adds to the agent besides its always-on tools: the `browser` and
 * `exec` tools (on or off by switchyard.yaml and what this machine has, checked at each turn)
 * and the skills (with the `read` tool). Built from the config as it is when each activity runs.
 */
import { join } from 'node:path';
import { type MachineTools, probeMachine, toolOff } from '../activities/agent/builtin-tools/availability.js';
import { createBrowserTool } from '../activities/agent/builtin-tools/browser.js';
import { BrowserPool } from '../activities/agent/builtin-tools/browser-pool.js';
import { createExecTool } from '../activities/agent/builtin-tools/exec.js';
import { ExecJournal } from '../activities/agent/builtin-tools/exec-journal.js';
import {
  type AgentSkillsDeps,
  type AgentToolDefinition,
  loadAgentModelsConfig,
  type ToolCallContext,
} from '../activities/agent/index.js';
import { parseSessionKey } from '../channels/session-key.js';
import type { Config } from '../config/config.js';
import { BlobStore } from '../media/blob-store.js';
import { catalogFromConfig } from '../skills/catalog.js';
import type { SkillFileError } from '../skills/skill-file.js';

export interface AgentExtras {
  tools: AgentToolDefinition[];
  skills: AgentSkillsDeps;
  /** Closes the browsers and the exec journal (worker shutdown). */
  close(): Promise<void>;
}

export interface AgentExtrasOptions {
  /** Told about each SKILL.md that cannot be read. */
  warn?: (message: string) => void;
  /** What the machine has (tests pass their own); default: probed now. */
  machine?: MachineTools;
}

export function agentExtras(config: () => Config, options: AgentExtrasOptions = {}): AgentExtras {
  const machine = options.machine ?? probeMachine();
  const off = (name: string) => toolOff(name, config(), machine);
  // Asked for but impossible here: say so once at start, with the fix (each turn says it too).
  for (const name of ['exec', 'browser']) {
    const why = off(name);
    const wanted = name === 'exec' ? config().tools.exec.security !== 'deny' : config().tools.browser.enabled;
    if (wanted && why) options.warn?.(`the ${name} tool is ${why}`);
  }
  const pool = new BrowserPool({
    executablePath: () => machine.chromium,
    policy: () => config().tools.webFetch,
    idleMs: () => config().tools.browser.idleMs,
  });
  let journal: ExecJournal | undefined;
  const media = config().media;
  const browser = createBrowserTool({
    pool,
    sessionOf: (runKey, ctx) => sessionOfCall(ctx) ?? runKey,
    settings: () => config().tools.browser,
    media: new BlobStore({ dir: media.dir, maxBytes: media.maxBytes }),
  });
  const exec = createExecTool({
    policy: () => config().tools.exec,
    workspaceOf: (_runKey, ctx) => workspaceOf(config(), sessionOfCall(ctx)),
    journal: () => {
      journal ??= new ExecJournal(join(config().home, 'exec-journal.db'));
      return journal;
    },
    bwrap: machine.bwrap,
    ...(machine.sandboxProblem ? { sandboxProblem: machine.sandboxProblem } : {}),
  });
  return {
    tools: [
      { ...browser, unavailable: () => off('browser') },
      { ...exec, unavailable: () => off('exec') },
    ],
    skills: {
      catalog: catalogFromConfig({ config, toolOff: off }),
      onError: (error) => options.warn?.(skillSkippedLine(error)),
    },
    async close() {
      await pool.close();
      journal?.close();
    },
  };
}

/**
 * The session a tool call belongs to: its idempotency key is `<workflow id>/<activity id>`, and a
 * turn's workflow id is `turn:<session key>:<message id>`. Undefined outside a conversation
 * (scheduled runs, pipelines started by hand).
 */
export function sessionOfCall(ctx: Pick<ToolCallContext, 'idempotencyKey'>): string | undefined {
  const key = ctx.idempotencyKey;
  const workflowId = key.slice(0, key.lastIndexOf('/'));
  return workflowId.startsWith('turn:') ? workflowId.slice(5, workflowId.lastIndexOf(':')) : undefined;
}

/** The workspace of the agent of a session (or of the first agent, outside one). */
function workspaceOf(config: Config, sessionKey: string | undefined): string {
  const agents = loadAgentModelsConfig(config.models, { home: config.home }).agents;
  const id = sessionKey ? parseSessionKey(sessionKey)?.agentId : undefined;
  const agent = agents.find((a) => a.id.toLowerCase() === id?.toLowerCase()) ?? agents[0];
  return agent?.workspace ?? join(config.home, 'agents', id ?? 'main');
}

/** The worker's log line for a SKILL.md or skill folder that cannot be used: where, why, what to do. */
export function skillSkippedLine(error: SkillFileError): string {
  return (
    `skill skipped: ${error.message} — the other skills still load; fix it and ` +
    '`switchyard skills check` shows whether it reads now (the next turn picks it up, no restart)'
  );
}
