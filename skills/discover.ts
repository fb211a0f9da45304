/**
 * Where skills are found, and which one wins when two have the same name. OpenClaw's order,
 * highest first: the agent workspace's `skills/`, its `.agents/skills/`, the data directory's
 * `skills/` (OpenClaw's managed `~/.openclaw/skills`), the skills Switchyard ships, then
 * `skills.load.extraDirs`. A root is searched up to six folders deep; a folder with a SKILL.md
 * is one skill (nothing below it is searched).
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { parseSkillFile, type SkillFile, SkillFileError } from './skill-file.js';

export type SkillSource = 'workspace' | 'workspace-agents' | 'managed' | 'bundled' | 'extra';

export interface SkillRoot {
  source: SkillSource;
  dir: string;
}

export interface DiscoveredSkill extends SkillFile {
  source: SkillSource;
  root: string;
}

export interface Discovery {
  /** One per name, the one with the highest precedence, in precedence order. */
  skills: DiscoveredSkill[];
  /** Skills hidden by one of the same name with higher precedence. */
  shadowed: Array<{ skill: DiscoveredSkill; by: DiscoveredSkill }>;
  /** SKILL.md files that could not be read as skills (the rest still load). */
  errors: SkillFileError[];
}

export interface SkillRootOptions {
  /** The agent's workspace (`agents[].workspace`). */
  workspace?: string;
  /** `<data dir>`: its `skills/` is shared by every agent. */
  dataDir?: string;
  /** The skills Switchyard ships. */
  bundledDir?: string;
  /** `skills.load.extraDirs`, lowest precedence. */
  extraDirs?: readonly string[];
}

/** The roots in precedence order (highest first). */
export function skillRoots(options: SkillRootOptions): SkillRoot[] {
  const roots: SkillRoot[] = [];
  if (options.workspace) {
    roots.push({ source: 'workspace', dir: join(options.workspace, 'skills') });
    roots.push({ source: 'workspace-agents', dir: join(options.workspace, '.agents', 'skills') });
  }
  if (options.dataDir) roots.push({ source: 'managed', dir: join(options.dataDir, 'skills') });
  if (options.bundledDir) roots.push({ source: 'bundled', dir: options.bundledDir });
  for (const dir of options.extraDirs ?? []) roots.push({ source: 'extra', dir });
  return roots;
}

const MAX_DEPTH = 6;
const MAX_SKILL_FILE_BYTES = 256 * 1024;

export async function discoverSkills(roots: readonly SkillRoot[]): Promise<Discovery> {
  const winners = new Map<string, DiscoveredSkill>();
  const discovery: Discovery = { skills: [], shadowed: [], errors: [] };
  for (const root of roots) {
    const found: DiscoveredSkill[] = [];
    await scan(root, discovery.errors, found);
    for (const skill of found) {
      const key = skill.name.toLowerCase();
      const winner = winners.get(key);
      if (winner) discovery.shadowed.push({ skill, by: winner });
      else winners.set(key, skill);
    }
  }
  discovery.skills = [...winners.values()];
  return discovery;
}

async function scan(root: SkillRoot, errors: SkillFileError[], found: DiscoveredSkill[]): Promise<void> {
  // A folder that cannot be read (a link loop, no permission) is reported and skipped like a
  // broken SKILL.md: it must not take every other skill, or the turn, down with it.
  const unreadable = (dir: string, error: unknown) =>
    errors.push(new SkillFileError(dir, 0, `folder cannot be read (${errorText(error)}); skipped`));
  let rootReal: string;
  try {
    rootReal = await realpath(root.dir);
  } catch (error) {
    if (!isMissing(error)) unreadable(root.dir, error);
    return;
  }
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A dangling link or a linked file is not a skill folder: nothing to say.
      if (!isMissing(error) && code !== 'ENOTDIR') unreadable(dir, error);
      return;
    }
    if (depth > 0 && entries.some((e) => e.name === 'SKILL.md')) {
      const skill = await readSkill(root, dir, rootReal, errors);
      if (skill) found.push(skill);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    const dirs = entries
      .filter(
        (e) =>
          (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.') && e.name !== 'node_modules',
      )
      .map((e) => e.name)
      .sort();
    for (const name of dirs) await visit(join(dir, name), depth + 1);
  };
  await visit(root.dir, 0);
}

async function readSkill(
  root: SkillRoot,
  dir: string,
  rootReal: string,
  errors: SkillFileError[],
): Promise<DiscoveredSkill | undefined> {
  const file = join(dir, 'SKILL.md');
  try {
    const dirReal = await realpath(dir);
    const fileReal = await realpath(file);
    // A skill folder linked in from elsewhere is fine where the owner installs skills (the data
    // directory's), not in a workspace or an extra folder; a SKILL.md never points out of its folder.
    const contained = (inner: string, outer: string) => inner === outer || inner.startsWith(outer + sep);
    if (root.source !== 'managed' && !contained(dirReal, rootReal)) {
      errors.push(
        new SkillFileError(file, 1, `the skill folder links outside ${root.dir} (to ${dirReal}); skipped`),
      );
      return undefined;
    }
    if (!contained(fileReal, dirReal)) {
      errors.push(new SkillFileError(file, 1, `SKILL.md links outside its folder (to ${fileReal}); skipped`));
      return undefined;
    }
    const size = (await stat(fileReal)).size;
    if (size > MAX_SKILL_FILE_BYTES) {
      errors.push(
        new SkillFileError(
          file,
          1,
          `SKILL.md is ${Math.round(size / 1024)} KiB; at most 256 KiB (move details into reference files)`,
        ),
      );
      return undefined;
    }
    const skill = parseSkillFile(await readFile(fileReal, 'utf8'), file, dir, basename(dir));
    return { ...skill, source: root.source, root: root.dir };
  } catch (error) {
    if (error instanceof SkillFileError) {
      errors.push(error);
      return undefined;
    }
    errors.push(new SkillFileError(file, 1, `cannot be read: ${(error as Error).message}`));
    return undefined;
  }
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ELOOP' ? 'ELOOP: a symbolic link loop' : code === undefined ? String(error) : code;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
