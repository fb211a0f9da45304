/**
 * The skills section of the system prompt, in OpenClaw's shape: a short rule, then an
 * `<available_skills>` block with each skill's name, description and the path of its SKILL.md.
 * The instructions themselves stay on disk until the model reads them with the `read` tool, so a
 * hundred skills cost a few thousand characters, not a hundred files.
 */
import type { DiscoveredSkill } from './discover.js';

/** The longest the block may be (OpenClaw's default prompt budget for skills). */
export const MAX_SKILLS_PROMPT_CHARS = 30_000;
const MAX_SKILLS_IN_PROMPT = 150;

export function skillsPromptSection(
  skills: readonly DiscoveredSkill[],
  options: { readTool?: string; maxChars?: number } = {},
): string {
  if (skills.length === 0) return '';
  const read = options.readTool ?? 'read';
  const budget = options.maxChars ?? MAX_SKILLS_PROMPT_CHARS;
  const head = [
    '## Skills',
    'Skills are instructions for particular tasks, kept in files. Before you answer, look through the',
    '<description> of each skill in <available_skills>:',
    `- if one clearly fits the request, read its SKILL.md (the path in <location>) with the \`${read}\` tool, then follow it;`,
    '- if several fit, pick the most specific one;',
    '- if none fits, read none.',
    'Read at most one skill before you start, and only once you have chosen it. A path in a skill that is',
    `relative (or starts with {baseDir}) is inside that skill's folder: read it with \`${read}\` too.`,
  ].join('\n');
  const entries: string[] = [];
  let size = head.length + 40;
  const sorted = [...skills].sort((a, b) => a.name.localeCompare(b.name));
  for (const skill of sorted.slice(0, MAX_SKILLS_IN_PROMPT)) {
    const entry = [
      '  <skill>',
      `    <name>${xml(skill.name)}</name>`,
      `    <description>${xml(skill.description)}</description>`,
      `    <location>${xml(skill.file)}</location>`,
      '  </skill>',
    ].join('\n');
    if (size + entry.length > budget) break;
    entries.push(entry);
    size += entry.length + 1;
  }
  const left = sorted.length - entries.length;
  return [
    head,
    '<available_skills>',
    ...entries,
    '</available_skills>',
    ...(left > 0 ? [`(${left} more skills are not listed here: the list is too long for the prompt.)`] : []),
  ].join('\n');
}

function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
