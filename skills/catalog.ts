/**
 * The skills an agent has: found in its roots (discover.ts), each judged (eligibility.ts). What
 * the agent's turn offers, what `switchyard skills list|info|check` shows and what the `read`
 * tool may open all come from here, read from disk each time, so an edited or added SKILL.md
 * counts from the next turn on.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Config } from '../config/config.js';
import { projectRoot } from '../config/home.js';
import {
  type DiscoveredSkill,
  discoverSkills,
  type SkillRootOptions,
  type SkillSource,
  skillRoots,
} from './discover.js';
import { judgeSkill, type SkillEnvironment, type Verdict } from './eligibility.js';
import type { SkillFileError } from './skill-file.js';

export interface JudgedSkill extends DiscoveredSkill {
  verdict: Verdict;
}

export interface SkillCatalog {
  /** Every skill found (one per name), in precedence order, with its verdict. */
  skills: JudgedSkill[];
  /** What the model is offered: eligible, and not `disable-model-invocation`. */
  offered: JudgedSkill[];
  shadowed: Array<{ skill: DiscoveredSkill; by: DiscoveredSkill }>;
  errors: SkillFileError[];
}

export async function loadSkillCatalog(
  roots: SkillRootOptions,
  env: SkillEnvironment,
): Promise<SkillCatalog> {
  const found = await discoverSkills(skillRoots(roots));
  const skills = found.skills.map((skill) => ({ ...skill, verdict: judgeSkill(skill, env) }));
  return {
    skills,
    offered: skills.filter((s) => s.verdict.eligible && !s.disableModelInvocation),
    shadowed: found.shadowed,
    errors: found.errors,
  };
}

/** The skills Switchyard ships: the skill folders beside this code. */
export function bundledSkillsDir(): string {
  return join(projectRoot(), 'skills');
}

/** Where the skills of `agent` are looked for, from the config. */
export function skillRootsFor(config: Config, workspace: string | undefined): SkillRootOptions {
  return {
    ...(workspace ? { workspace } : {}),
    dataDir: config.home,
    bundledDir: bundledSkillsDir(),
    extraDirs: config.skills.extraDirs.map((dir) =>
      dir.startsWith('~/') ? join(homedir(), dir.slice(2)) : isAbsolute(dir) ? dir : join(config.home, dir),
    ),
  };
}

/** `which`, over a PATH. */
export function binOnPath(path: string | undefined): (name: string) => boolean {
  const dirs = (path ?? '').split(delimiter).filter(Boolean);
  const cache = new Map<string, boolean>();
  return (name) => {
    let found = cache.get(name);
    if (found === undefined) {
      found = !name.includes('/') && dirs.some((dir) => isExecutable(join(dir, name)));
      cache.set(name, found);
    }
    return found;
  };
}

/**
 * A value of the config by an OpenClaw-style dotted path (`channels.telegram`,
 * `tools.webFetch.allowPrivate`): switchyard.yaml's keys as written, where they match OpenClaw's.
 */
export function configValue(config: Config, path: string): unknown {
  const view: Record<string, unknown> = {
    agents: config.routing.agents,
    bindings: config.routing.bindings,
    session: config.routing.session,
    channels: config.routing.channels,
    providers: config.models.providers,
    cron: config.cron,
    tools: config.tools,
    skills: config.skills,
  };
  let node: unknown = view;
  for (const segment of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** How a source is named to a person. */
export const SOURCE_NAMES: Record<SkillSource, string> = {
  workspace: 'workspace',
  'workspace-agents': 'workspace .agents',
  managed: 'data dir',
  bundled: 'shipped',
  extra: 'extra dir',
};

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface CatalogOptions {
  /** The config as it is now (read at each call). */
  config: () => Config;
  env?: NodeJS.ProcessEnv;
  platform?: string;
  /** Why a tool Switchyard has is off here (exec denied, no Chromium). */
  toolOff?: (name: string) => string | undefined;
}

/** The catalog of the agent whose workspace is `workspace`, judged against `tools`, from the config. */
export function catalogFromConfig(options: CatalogOptions) {
  const env = options.env ?? process.env;
  return (workspace: string | undefined, tools: readonly string[]): Promise<SkillCatalog> => {
    const config = options.config();
    return loadSkillCatalog(skillRootsFor(config, workspace), {
      platform: options.platform ?? process.platform,
      env,
      hasBin: binOnPath(env.PATH),
      tools: new Set(tools),
      ...(options.toolOff ? { toolOff: options.toolOff } : {}),
      configValue: (path) => configValue(config, path),
      entries: config.skills.entries,
      ...(config.skills.allowBundled ? { allowBundled: config.skills.allowBundled } : {}),
    });
  };
}
