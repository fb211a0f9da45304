// Credentials named in switchyard.yaml, read when they are needed: a value written in the file,
// an environment variable (`{ env: NAME }`), or an entry of the secrets file (`{ secret: name }`,
// a JSON object in the data directory). Errors say where to look, never the value.

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isRecord } from '../engine/records.js';
import type { Config } from './config.js';

/** A credential as switchyard.yaml writes it. */
export type SecretInput = string | { env: string } | { secret: string };

/** JSON Schema of a SecretInput, for the config schemas of connectors. */
export const secretInputSchema = {
  description:
    'The value itself, { env: NAME } (an environment variable) or { secret: name } (an entry of secretsFile).',
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['env'],
      properties: { env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['secret'],
      properties: { secret: { type: 'string', minLength: 1 } },
    },
  ],
} as const;

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  /** Absolute path of the secrets file, when there is one. */
  secretsFile?: string;
}

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** The secrets file in effect: `secretsFile` (relative to the data dir), else `<data dir>/secrets.json` if present. */
export function secretsFileOf(config: Pick<Config, 'home' | 'models'>): string | undefined {
  const named = config.models.secretsFile;
  if (typeof named === 'string') return isAbsolute(named) ? named : join(config.home, named);
  const fallback = join(config.home, 'secrets.json');
  return existsSync(fallback) ? fallback : undefined;
}

export function secretSourcesOf(
  config: Pick<Config, 'home' | 'models'>,
  env: NodeJS.ProcessEnv = process.env,
): SecretSources {
  const secretsFile = secretsFileOf(config);
  return { env, ...(secretsFile ? { secretsFile } : {}) };
}

/**
 * The value of a credential. `key` names it in errors (e.g. `channels.telegram.botToken`).
 * Throws SecretError saying which variable or secret is missing.
 */
export function resolveSecret(input: SecretInput, sources: SecretSources, key: string): string {
  if (typeof input === 'string') return input;
  if ('env' in input) {
    const value = sources.env[input.env]?.trim();
    if (!value) throw new SecretError(`${key}: environment variable ${input.env} is not set`);
    return value;
  }
  if (!sources.secretsFile) {
    throw new SecretError(
      `${key}: names secret '${input.secret}' but there is no secrets file (set secretsFile, or create secrets.json in the data directory)`,
    );
  }
  const value = readSecretsFile(sources.secretsFile)[input.secret];
  if (typeof value !== 'string' || !value.trim()) {
    throw new SecretError(`${key}: secret '${input.secret}' is missing from ${sources.secretsFile}`);
  }
  return value.trim();
}

/** The secrets file as an object; throws SecretError without echoing its content. */
export function readSecretsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SecretError(`cannot read the secrets file ${file}: ${(err as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (isRecord(value)) return value;
  } catch {
    // fall through: the message below says what is expected without echoing secret content
  }
  throw new SecretError(`the secrets file ${file} must be a JSON object of { "<name>": "<value>" }`);
}
