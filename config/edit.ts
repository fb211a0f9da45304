// Writing switchyard.yaml for a person (onboarding, `switchyard` commands): the edit is made on
// the YAML document, so their comments and layout stay; the result is checked exactly like the
// file is when it is loaded (config/load.ts: schema, cross-references, file:line errors) before
// anything is written, and it replaces the file in one rename, so a running worker or gateway
// never reads half a file.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Document, parseDocument } from 'yaml';
import { homePaths } from './home.js';
import { parseConfigSource } from './load.js';

const HEADER = `# Switchyard's configuration (all keys: docs/configuration.md). Edits apply while it runs.
`;

/**
 * Applies `edit` to <home>/switchyard.yaml (created when absent) and writes it. Throws the
 * ConfigError that loading the result would throw, naming file:line, and then writes nothing.
 */
export function editConfigFile(home: string, edit: (doc: Document) => void): { file: string; text: string } {
  const file = homePaths(home).configFile;
  const before = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const doc = parseDocument(before);
  if (doc.errors.length > 0) parseConfigSource(before, file); // throws with file:line
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  edit(doc);
  const text = doc.toString();
  parseConfigSource(text, file);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, file);
  return { file, text };
}

/** Writes one entry of a secrets file (created 0600 when absent; its mode is set to 0600 either way). */
export function writeSecret(file: string, name: string, value: string): void {
  let secrets: Record<string, unknown> = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      parsed = undefined; // the message below, without echoing what the file holds
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`the secrets file ${file} must be a JSON object of { "<name>": "<value>" }`);
    }
    secrets = parsed as Record<string, unknown>;
  }
  secrets[name] = value;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}
