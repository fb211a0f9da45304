/**
 * The agent's `read` tool, as OpenClaw's skills expect it: the model reads a skill's SKILL.md
 * (the path the prompt lists) and the files it refers to. Here it reads only inside skill
 * folders — nothing else on the machine — and `{baseDir}` in what it returns is the folder's path.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../../engine/failures.js';
import type { AgentToolDefinition } from '../tools.js';

export interface ReadToolOptions {
  /** The skill folders that may be read (read at each call, so new skills count at once). */
  folders: () => Promise<readonly string[]>;
  /** Characters returned at most per call. Default 50,000. */
  maxChars?: number;
}

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const DEFAULT_LINES = 2000;

export function createReadTool(options: ReadToolOptions): AgentToolDefinition {
  const maxChars = options.maxChars ?? 50_000;
  return {
    name: 'read',
    description:
      "Read a skill's instructions: its SKILL.md (the path in <location> of the skills list) or a file in the " +
      "skill's folder that it refers to. Only files inside skill folders can be read. Long files come in parts: " +
      'give offset (the first line, from 1) and limit (how many lines) to read on.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          description: 'The file: an absolute path, or a path relative to the skill folder.',
        },
        offset: { type: 'integer', minimum: 1, description: 'First line to read (1-based). Default 1.' },
        limit: {
          type: 'integer',
          minimum: 1,
          description: `Lines to read at most. Default ${DEFAULT_LINES}.`,
        },
      },
    },
    timeoutMs: 15_000,
    async execute(args) {
      const folders = await options.folders();
      const { file, folder } = await locate(String(args.path), folders);
      const size = (await stat(file)).size;
      if (size > MAX_FILE_BYTES) {
        throw refused(`read: ${file} is ${Math.round(size / 1024)} KiB; skill files are read up to 2 MiB`);
      }
      const bytes = await readAll(file);
      if (bytes.includes(0)) throw refused(`read: ${file} is not a text file`);
      const text = bytes.toString('utf8').replaceAll('{baseDir}', folder);
      const lines = text.split('\n');
      const first = typeof args.offset === 'number' ? args.offset : 1;
      const limit = typeof args.limit === 'number' ? args.limit : DEFAULT_LINES;
      if (first > lines.length) {
        throw refused(`read: ${file} has ${lines.length} lines; offset ${first} is past its end`);
      }
      let shown = lines.slice(first - 1, first - 1 + limit);
      let out = shown.join('\n');
      if (out.length > maxChars) {
        // Whole lines only, so offset can continue exactly where this part ends.
        let chars = 0;
        let n = 0;
        while (n < shown.length && chars + shown[n]!.length + 1 <= maxChars) chars += shown[n++]!.length + 1;
        shown = shown.slice(0, Math.max(1, n));
        out = shown.join('\n').slice(0, maxChars);
      }
      const last = first - 1 + shown.length;
      if (last < lines.length) {
        out += `\n\n[${file}: lines ${first}-${last} of ${lines.length}; read on with offset ${last + 1}]`;
      }
      return out;
    },
  };
}

/** The real path of the file and the skill folder it is in; anything outside every folder is refused. */
async function locate(path: string, folders: readonly string[]): Promise<{ file: string; folder: string }> {
  const real = await Promise.all(folders.map((f) => realpath(f).catch(() => undefined)));
  const candidates = isAbsolute(path) ? [resolve(path)] : folders.map((f) => join(f, path));
  for (const candidate of candidates) {
    let file: string;
    try {
      file = await realpath(candidate);
    } catch {
      continue;
    }
    const i = real.findIndex((f) => f !== undefined && (file === f || file.startsWith(f + sep)));
    if (i >= 0 && file !== real[i]) return { file, folder: folders[i]! };
    if (i < 0 && isAbsolute(path)) break;
  }
  if (isAbsolute(path) && !folders.some((f) => !relative(f, resolve(path)).startsWith('..'))) {
    throw refused(
      `read: refused: ${path} is not in a skill folder (read only opens skill files: a SKILL.md from the skills list, or a file in its folder)`,
    );
  }
  throw refused(
    `read: no file ${path} in any skill folder (give the path in <location>, or one relative to it)`,
  );
}

async function readAll(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function refused(message: string) {
  return ApplicationFailure.nonRetryable(message, Failures.ReadRefused);
}
