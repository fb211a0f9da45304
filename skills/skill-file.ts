/**
 * One `SKILL.md`, as OpenClaw writes it: YAML front matter between `---` lines (name,
 * description, optional `metadata` whose `openclaw` block gates the skill), then the markdown
 * instructions the agent reads when it uses the skill. A file that cannot be read as a skill is
 * a SkillFileError naming the file, the line and what is wrong; it never stops the others.
 */
import { isMap, LineCounter, parseDocument } from 'yaml';
import { syntaxErrorStart } from '../engine/source.js';

/** `metadata.openclaw` (or a legacy name for it), as far as Switchyard uses it. */
export interface SkillMetadata {
  /** Offered whenever `os` allows, whatever `requires` says. */
  always?: boolean;
  emoji?: string;
  homepage?: string;
  /** The key under `skills.entries` (default: the skill's name). */
  skillKey?: string;
  /** The environment variable the skill's API key goes in. */
  primaryEnv?: string;
  /** Platforms it runs on (`darwin`, `linux`, `win32`); absent: any. */
  os?: string[];
  requires: {
    /** Each must be on PATH (and is run through the exec tool). */
    bins: string[];
    /** At least one must be on PATH. */
    anyBins: string[];
    /** Each environment variable must be set. */
    env: string[];
    /** Each config path must be truthy. */
    config: string[];
  };
}

export interface SkillFile {
  name: string;
  description: string;
  /** The SKILL.md file (absolute). */
  file: string;
  /** Its folder: what `{baseDir}` in the instructions stands for. */
  dir: string;
  metadata: SkillMetadata;
  homepage?: string;
  /** `user-invocable` (default true): OpenClaw offers it as a slash command. */
  userInvocable: boolean;
  /** `disable-model-invocation` (default false): kept out of the model's prompt. */
  disableModelInvocation: boolean;
  /** The markdown after the front matter. */
  body: string;
}

/**
 * A SKILL.md (or a skill folder) that could not be read as a skill. `line` is 1-based, in the
 * file; 0 for the file or folder as a whole.
 */
export class SkillFileError extends Error {
  override readonly name = 'SkillFileError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    // Line 0: the file (or folder) as a whole.
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
  }
}

/** What `metadata` may call its block: OpenClaw's name first, then the names it had before. */
export const MANIFEST_KEYS = ['openclaw', 'clawdbot', 'clawdis', 'moltbot'] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Reads one SKILL.md. `dirName` is its folder's name, the skill's name when the front matter
 * has none (as in OpenClaw).
 */
export function parseSkillFile(text: string, file: string, dir: string, dirName: string): SkillFile {
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = source.split('\n');
  if (lines[0]?.trim() !== '---') {
    throw new SkillFileError(
      file,
      1,
      'no front matter: a SKILL.md starts with a line "---", then name: and description:, then "---"',
    );
  }
  const end = lines.findIndex((line, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(line));
  if (end < 0) {
    throw new SkillFileError(file, 1, 'the front matter opened here is never closed with a line "---"');
  }
  const yamlText = lines.slice(1, end).join('\n');
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  // Lines of the YAML block are one below their place in the file (the opening ---).
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 1 : counter.linePos(offset).line + 1;
  const firstError = doc.errors[0];
  if (firstError) {
    // An unclosed quote or bracket is reported where it was opened, not where the parser gave up.
    const start = syntaxErrorStart(doc, firstError);
    throw new SkillFileError(
      file,
      lineOf(start?.offset ?? firstError.pos[0]),
      `front matter is not valid YAML: ${firstLine(firstError.message)}${start ? `; ${start.what}` : ''}`,
    );
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new SkillFileError(file, 2, 'front matter must be key: value lines (name:, description:, …)');
  }
  const fm = (doc.toJS() ?? {}) as Record<string, unknown>;
  const keyLine = (key: string) => {
    const pair = isMap(doc.contents)
      ? doc.contents.items.find((p) => (p.key as { value?: unknown })?.value === key)
      : undefined;
    return lineOf((pair?.key as { range?: [number] } | undefined)?.range?.[0]);
  };
  const fail = (key: string, problem: string): never => {
    throw new SkillFileError(file, keyLine(key), problem);
  };

  const name = fm.name === undefined ? dirName : fm.name;
  if (typeof name !== 'string' || !NAME.test(name.trim())) {
    fail('name', `name must be letters, digits, '-', '_' or '.' (at most 64), got ${JSON.stringify(name)}`);
  }
  const description = fm.description;
  if (typeof description !== 'string' || !description.trim()) {
    if (description === undefined) {
      throw new SkillFileError(
        file,
        1,
        'no description: the agent picks a skill by its description; add description: <one line saying when to use it>',
      );
    }
    fail('description', `description must be text, got ${JSON.stringify(description)}`);
  }
  const metadata = readMetadata(fm.metadata, (problem) => fail('metadata', problem));
  const flag = (key: string, fallback: boolean): boolean => {
    const v = fm[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|yes|on|1)$/i.test(v.trim())) return true;
    if (typeof v === 'string' && /^(false|no|off|0)$/i.test(v.trim())) return false;
    return fail(key, `${key} must be true or false, got ${JSON.stringify(v)}`);
  };
  const homepage = typeof fm.homepage === 'string' ? fm.homepage : metadata.homepage;
  return {
    name: (name as string).trim(),
    description: (description as string).trim().replace(/\s+/g, ' '),
    file,
    dir,
    metadata,
    ...(homepage ? { homepage } : {}),
    userInvocable: flag('user-invocable', true),
    disableModelInvocation: flag('disable-model-invocation', false),
    body: lines
      .slice(end + 1)
      .join('\n')
      .trim(),
  };
}

/**
 * `metadata` is an object, or (OpenClaw's usual spelling) a one-line JSON string; either way its
 * `openclaw` block is what gates the skill. Other keys of `metadata` are left alone.
 */
function readMetadata(raw: unknown, fail: (problem: string) => never): SkillMetadata {
  const empty: SkillMetadata = { requires: { bins: [], anyBins: [], env: [], config: [] } };
  if (raw === undefined || raw === null) return empty;
  let value = raw;
  if (typeof raw === 'string') {
    // JSON (and JSON5's trailing commas) is a YAML flow mapping.
    const doc = parseDocument(raw, { prettyErrors: false });
    if (doc.errors.length > 0) fail(`metadata is not valid JSON: ${firstLine(doc.errors[0]!.message)}`);
    value = doc.toJS();
  }
  if (!isObject(value))
    return fail('metadata must be an object (e.g. {"openclaw": {"requires": {"bins": ["curl"]}}})');
  const key = MANIFEST_KEYS.find((k) => isObject(value[k]));
  if (!key) return empty;
  const block = value[key] as Record<string, unknown>;
  const at = `metadata.${key}`;
  const requires = block.requires;
  if (requires !== undefined && !isObject(requires)) fail(`${at}.requires must be an object`);
  const req = (requires ?? {}) as Record<string, unknown>;
  const list = (v: unknown, field: string): string[] => {
    if (v === undefined || v === null) return [];
    // OpenClaw also takes "a, b" for a list.
    if (typeof v === 'string')
      return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string'))
      return v.map((s) => s.trim()).filter(Boolean);
    return fail(`${field} must be a list of names, got ${JSON.stringify(v)}`);
  };
  const text = (v: unknown, field: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    return fail(`${field} must be text, got ${JSON.stringify(v)}`);
  };
  if (block.always !== undefined && typeof block.always !== 'boolean')
    fail(`${at}.always must be true or false`);
  const os = list(block.os, `${at}.os`);
  const meta: SkillMetadata = {
    requires: {
      bins: list(req.bins, `${at}.requires.bins`),
      anyBins: list(req.anyBins, `${at}.requires.anyBins`),
      env: list(req.env, `${at}.requires.env`),
      config: list(req.config, `${at}.requires.config`),
    },
    ...(os.length > 0 ? { os } : {}),
  };
  if (block.always === true) meta.always = true;
  for (const field of ['emoji', 'homepage', 'skillKey', 'primaryEnv'] as const) {
    const v = text(block[field], `${at}.${field}`);
    if (v !== undefined) meta[field] = v;
  }
  return meta;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
