/**
 * Whether a skill can be offered here, and if not, why — in words the owner can act on. OpenClaw's
 * gates (`metadata.openclaw`: `os`, `requires.bins|anyBins|env|config`, `always`), the owner's
 * `skills.entries.<key>.enabled` and `skills.allowBundled`, and one Switchyard adds: the tools a
 * skill needs. An OpenClaw skill runs its binaries through `exec`, and says in its text when it
 * uses another tool ("use the `browser` tool"); a tool this turn does not offer, or that
 * Switchyard does not have, is named.
 */
import type { DiscoveredSkill } from './discover.js';

/** The owner's settings of one skill (`skills.entries.<skill key>`). */
export interface SkillEntryConfig {
  /** false: never offered. */
  enabled?: boolean;
  /** Counted as set for `requires.env`. */
  env?: Readonly<Record<string, string>>;
}

export interface SkillEnvironment {
  /** `process.platform`: linux, darwin, win32. */
  platform: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether a binary is on PATH. */
  hasBin(name: string): boolean;
  /** The tools the turn offers (by name). */
  tools: ReadonlySet<string>;
  /** Why a tool Switchyard has is not offered (e.g. "off: set tools.exec.security"). */
  toolOff?(name: string): string | undefined;
  /** A value of switchyard.yaml by dotted path (`channels.telegram`), for `requires.config`. */
  configValue(path: string): unknown;
  entries?: Readonly<Record<string, SkillEntryConfig>>;
  /** `skills.allowBundled`: when set, only these shipped skills are offered. */
  allowBundled?: readonly string[];
}

export interface Verdict {
  eligible: boolean;
  /** Empty when eligible; otherwise each reason it is not, one sentence each. */
  reasons: string[];
  /** The tools it was found to need. */
  tools: string[];
}

/** The tools Switchyard can have, whether or not they are on. */
export const SWITCHYARD_TOOLS = new Set([
  'web_fetch',
  'message',
  'sessions_history',
  'cron',
  'read',
  'browser',
  'exec',
  'memory_search',
  'memory_get',
  'memory_append',
]);

/** OpenClaw's tool names: a skill that says it uses one of these needs it. */
const OPENCLAW_TOOLS = new Set([
  ...SWITCHYARD_TOOLS,
  'process',
  'write',
  'edit',
  'apply_patch',
  'canvas',
  'nodes',
  'image',
  'image_generate',
  'video_generate',
  'music_generate',
  'pdf',
  'gateway',
  'sessions_list',
  'sessions_send',
  'sessions_spawn',
  'sessions_yield',
  'session_status',
  'agents_list',
  'subagents',
  'web_search',
  'tts',
  'code_execution',
  'ask_user',
]);

/** OpenClaw config paths that are really "this tool is on". */
const CONFIG_TOOLS: Record<string, string> = { 'browser.enabled': 'browser' };

/** The key of a skill under `skills.entries`. */
export function skillKey(skill: DiscoveredSkill): string {
  return skill.metadata.skillKey ?? skill.name;
}

/** The tools a skill's text says it uses: "`browser` tool", "the `exec` tool to run …". */
export function toolsMentioned(body: string): string[] {
  const found = new Set<string>();
  for (const match of body.matchAll(/`([a-z][a-z_]*)`\s+tools?\b/g)) {
    if (OPENCLAW_TOOLS.has(match[1]!)) found.add(match[1]!);
  }
  return [...found];
}

export function judgeSkill(skill: DiscoveredSkill, env: SkillEnvironment): Verdict {
  const reasons: string[] = [];
  const key = skillKey(skill);
  const entry = env.entries?.[key];
  const meta = skill.metadata;
  if (entry?.enabled === false)
    reasons.push(`disabled in switchyard.yaml (skills.entries.${key}.enabled: false)`);
  if (skill.source === 'bundled' && env.allowBundled && !env.allowBundled.includes(skill.name)) {
    reasons.push('a shipped skill not listed in skills.allowBundled');
  }
  if (meta.os && !meta.os.includes(env.platform)) {
    reasons.push(`runs only on ${meta.os.join(', ')} (this is ${env.platform})`);
  }

  const needed = new Set(toolsMentioned(skill.body));
  if (!meta.always) {
    const bins = meta.requires.bins;
    const anyBins = meta.requires.anyBins;
    if (bins.length > 0 || anyBins.length > 0) needed.add('exec');
    const missing = bins.filter((b) => !env.hasBin(b));
    if (missing.length > 0) reasons.push(`needs ${list(missing)} on PATH (not found)`);
    if (anyBins.length > 0 && !anyBins.some((b) => env.hasBin(b))) {
      reasons.push(`needs one of ${list(anyBins)} on PATH (none found)`);
    }
    const unset = meta.requires.env.filter((name) => !env.env[name] && !entry?.env?.[name]);
    if (unset.length > 0) {
      reasons.push(
        `needs the environment variable${unset.length > 1 ? 's' : ''} ${list(unset)} (set for the worker, or in skills.entries.${key}.env)`,
      );
    }
    for (const path of meta.requires.config) {
      const tool = CONFIG_TOOLS[path];
      if (tool) needed.add(tool);
      else if (!env.configValue(path)) reasons.push(`needs ${path} set in switchyard.yaml`);
    }
  }

  for (const tool of [...needed].sort()) {
    if (env.tools.has(tool)) continue;
    if (!SWITCHYARD_TOOLS.has(tool)) {
      reasons.push(`needs the \`${tool}\` tool, which Switchyard does not have`);
      continue;
    }
    const off = env.toolOff?.(tool);
    const why = tool === 'exec' && meta.requires.bins.length > 0 ? ` to run ${list(meta.requires.bins)}` : '';
    reasons.push(`needs the \`${tool}\` tool${why}: ${off ?? 'not offered in this turn'}`);
  }
  return { eligible: reasons.length === 0, reasons, tools: [...needed].sort() };
}

function list(names: readonly string[]): string {
  return names.join(', ');
}
