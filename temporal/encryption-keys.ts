// The keys of the payload codec (temporal/codec.ts). A key is written `<id>:<base64 of 32 bytes>`;
// a list of them (one per line, or comma-separated) is a key ring whose FIRST key encrypts and
// whose every key decrypts, so a rotated key keeps old history readable.
//
// Where they come from: temporal.encryption.keys (switchyard.yaml: a value, { env } or { secret };
// or SWITCHYARD_ENCRYPTION_KEYS) when set, else <data dir>/encryption.keys, created (mode 600) on
// first use when encryption is on. Keys of the file always decrypt too, so moving the active key
// to a secret loses nothing.

import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { resolveSecret, secretSourcesOf } from '../config/secrets.js';

const KEY_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface KeyRing {
  /** Encrypts new payloads; undefined when encryption is off and no key is known. */
  active: EncryptionKey | undefined;
  /** Every key that decrypts, by id. */
  byId: Map<string, Buffer>;
  /** Where the active key came from (for `switchyard doctor`, logs and errors); never the key. */
  source: string | undefined;
}

export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

export function keyFileOf(home: string): string {
  return join(home, 'encryption.keys');
}

/** A fresh key as the key file writes it: `<id>:<base64>`. The id is 8 random hex digits. */
export function newKeyLine(): string {
  return `${randomBytes(4).toString('hex')}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** Parses `<id>:<base64>` entries (lines or commas; `#` comments). `where` names the source in errors. */
export function parseKeys(text: string, where: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, 'base64');
    if (!ID_PATTERN.test(id) || key.length !== KEY_BYTES || !/^[A-Za-z0-9+/=_-]+$/.test(encoded)) {
      throw new EncryptionKeyError(
        `${where}: entry ${i + 1} is not <id>:<base64 of 32 bytes> (id of letters, digits, . _ -); ` +
          'make one with `switchyard encryption rotate` or `echo "k1:$(openssl rand -base64 32)"`',
      );
    }
    keys.push({ id, key });
  }
  return keys;
}

export interface KeyRingOptions {
  /** Where `{ env: NAME }` is looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Create the key file when encryption is on and no key is configured (default true). */
  create?: boolean;
}

/** The key ring of this data dir and config. Throws EncryptionKeyError on malformed keys. */
export function loadKeyRing(config: Config, options: KeyRingOptions = {}): KeyRing {
  const env = options.env ?? process.env;
  const file = keyFileOf(config.home);
  const { enabled, keys: configured } = config.temporal.encryption;
  let primary: EncryptionKey[] = [];
  let source: string | undefined;
  if (configured !== undefined) {
    const where = 'temporal.encryption.keys';
    primary = parseKeys(resolveSecret(configured, secretSourcesOf(config, env), where), where);
    source = where;
  }
  if (primary.length === 0 && enabled && !existsSync(file) && options.create !== false) {
    createKeyFile(file);
  }
  const fromFile = existsSync(file) ? parseKeys(readFileSync(file, 'utf8'), file) : [];
  if (primary.length === 0 && fromFile.length > 0) source = file;
  const all = [...primary, ...fromFile];
  const byId = new Map<string, Buffer>();
  for (const { id, key } of all) {
    const known = byId.get(id);
    if (known && !known.equals(key)) {
      throw new EncryptionKeyError(`two different keys share the id "${id}" (${source} and ${file})`);
    }
    byId.set(id, key);
  }
  return { active: enabled ? all[0] : undefined, byId, source: enabled ? source : undefined };
}

/**
 * Puts a new key first in <data dir>/encryption.keys (created when absent); older keys stay so
 * history written with them is still read. Returns the new key's id.
 */
export function rotateKeyFile(home: string): string {
  const file = keyFileOf(home);
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  parseKeys(old, file); // refuse to rewrite a file we cannot read
  const line = newKeyLine();
  writeFileSync(file, `${line}\n${old}`, { mode: 0o600 });
  return line.slice(0, line.indexOf(':'));
}

/** Written aside and hard-linked into place: a process starting at the same moment reads a whole key or makes none. */
function createKeyFile(file: string): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${newKeyLine()}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (err) {
    // Another process (worker and gateway starting together) created it first: theirs is used.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
}
