/**
 * The memory files of an agent's workspace, OpenClaw's layout: `MEMORY.md` (long-term, curated)
 * and `memory/*.md` (daily notes `memory/YYYY-MM-DD.md`, and any other note), the source of
 * truth every index is rebuilt from. Reading skips what is not a text note, with the reason;
 * writing appends, exactly once per idempotency key.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix, sep } from 'node:path';
import { MemoryError } from './errors.js';

export const LONG_TERM_FILE = 'MEMORY.md';
export const NOTES_DIR = 'memory';
/** A note larger than this is not indexed (it is not a note; say so rather than choke on it). */
export const MAX_NOTE_BYTES = 5 * 1024 * 1024;

export interface MemoryFileStat {
  /** Relative to the workspace, with `/`. */
  path: string;
  size: number;
  mtimeMs: number;
}

export type NoteRead = { path: string; text: string } | { path: string; skipped: string };

/** MEMORY.md (or memory.md) and every `.md` under memory/, sorted; symlinks and other files are left out. */
export async function listMemoryFiles(workspace: string): Promise<MemoryFileStat[]> {
  const out: MemoryFileStat[] = [];
  for (const name of [LONG_TERM_FILE, 'memory.md']) {
    const s = await stat(join(workspace, name)).catch(() => undefined);
    if (s?.isFile()) {
      out.push({ path: name, size: s.size, mtimeMs: s.mtimeMs });
      break;
    }
  }
  const walk = async (rel: string) => {
    const entries = await readdir(join(workspace, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = posix.join(rel, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(path);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.md')) {
        const s = await stat(join(workspace, path)).catch(() => undefined);
        if (s) out.push({ path, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
  };
  await walk(NOTES_DIR);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** A note's text, or why it is skipped (unreadable, binary, not UTF-8, too large). */
export async function readNote(workspace: string, path: string): Promise<NoteRead> {
  let bytes: Buffer;
  try {
    const s = await stat(join(workspace, path));
    if (s.size > MAX_NOTE_BYTES) {
      return { path, skipped: `larger than ${MAX_NOTE_BYTES / 1024 / 1024} MB (${s.size} bytes)` };
    }
    bytes = await readFile(join(workspace, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { path, skipped: `unreadable (${code ?? (error as Error).message})` };
  }
  if (bytes.includes(0)) return { path, skipped: 'binary (contains NUL bytes), not a text note' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { path, skipped: 'not valid UTF-8 text' };
  }
  return { path, text: text.replace(/^\uFEFF/, '') };
}

/**
 * A path the model or a person gave, checked: MEMORY.md, memory.md or a `.md` file under
 * memory/, inside the workspace. Returns it normalised with `/`.
 */
export function memoryPath(path: string): string {
  const raw = path.trim().replaceAll('\\', '/');
  const clean = normalize(raw).split(sep).join('/');
  const ok =
    !isAbsolute(raw) &&
    !clean.split('/').includes('..') &&
    (clean === LONG_TERM_FILE ||
      clean === 'memory.md' ||
      (clean.startsWith(`${NOTES_DIR}/`) && clean.toLowerCase().endsWith('.md')));
  if (!ok) {
    throw new MemoryError(
      'path-refused',
      `'${path}' is not a memory file: use MEMORY.md or a file under memory/ ending in .md (the paths memory_search returns)`,
    );
  }
  return clean;
}

/** The date of a daily note in a time zone (default: the worker's), `YYYY-MM-DD`. */
export function noteDate(at: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

export type AppendTarget = 'daily' | 'long-term';

export interface AppendResult {
  path: string;
  /** False when this key had already been written (a retry): nothing was appended. */
  appended: boolean;
}

/**
 * Appends `text` to today's daily note or MEMORY.md, once per `key`. The key's hash goes into
 * the file with the entry, in the same write (`<!-- switchyard:memory <hash> -->`, invisible in
 * rendered markdown and left out of the index), so a retry after a crash finds it there and
 * writes nothing: no window between "written" and "recorded as written".
 */
export async function appendNote(
  workspace: string,
  input: { target: AppendTarget; text: string; key: string; at: Date; timeZone?: string },
): Promise<AppendResult> {
  const date = noteDate(input.at, input.timeZone);
  const path = input.target === 'long-term' ? LONG_TERM_FILE : `${NOTES_DIR}/${date}.md`;
  const file = join(workspace, path);
  const marker = `<!-- switchyard:memory ${createHash('sha256').update(input.key).digest('hex').slice(0, 24)} -->`;
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing?.includes(marker)) return { path, appended: false };
  const body = input.text.trim().replace(/\r\n/g, '\n');
  const header =
    existing === undefined ? (input.target === 'daily' ? `# ${date}\n\n` : '# Memory\n\n') : undefined;
  const gap =
    existing === undefined ? '' : existing.endsWith('\n\n') ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
  const entry = `${header ?? gap}${body.includes('\n') ? body : `- ${body}`} ${marker}\n`;
  await mkdir(join(workspace, NOTES_DIR), { recursive: true });
  // One write() with O_APPEND: concurrent appenders do not overwrite each other.
  await appendFile(file, entry, { encoding: 'utf8', flag: 'a' });
  return { path, appended: true };
}
