// One Ajv instance for the channel schemas, and error messages a person can act on:
// every issue names the field (`chat.kind`, `attachments[0].mime`) and what was expected.
import type { AnySchema, ErrorObject, ValidateFunction } from 'ajv';
import { cachedValidator } from '../config/ajv-cache.js';
import providersSchema from '../schemas/providers.schema.json' with { type: 'json' };

export interface SchemaIssue {
  /** Dotted field path, e.g. `chat.kind` or `bindings[2].match.peer`; empty for the value itself. */
  path: string;
  /** What was expected, and what was found where that helps. */
  message: string;
  /** The issue is about the key at `path` itself (unknown or badly named), not its value. */
  atKey?: true;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: SchemaIssue[] };

// routing.schema.json refers to providers.schema.json for agents[].model. Compiled code is
// kept on disk (config/ajv-cache.ts).
const VALIDATORS = {
  options: { allErrors: true, verbose: true },
  formats: ['uri'],
  refs: [providersSchema],
} as const;

export function compileSchema<T>(schema: AnySchema): (value: unknown) => Validated<T> {
  const validate: ValidateFunction = cachedValidator(VALIDATORS, schema);
  return (value) => {
    if (validate(value)) return { ok: true, value: value as T };
    return { ok: false, errors: describeErrors(validate.errors ?? []) };
  };
}

/** `path: message` lines, for exceptions and CLI output. */
export function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n');
}

function describeErrors(errors: readonly ErrorObject[]): SchemaIssue[] {
  // anyOf/not/if errors explain their branches themselves; drop the branch noise beneath them.
  const umbrellas = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    // A bad key name is reported once, by its propertyNames error, not by the pattern beneath it.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    const underUmbrella = umbrellas.some(
      (u) => u !== error && error.schemaPath.startsWith(`${u.schemaPath}/`),
    );
    if (underUmbrella) continue;
    const issue = describeError(error);
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function describeError(error: ErrorObject): SchemaIssue {
  const path = toFieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: join(path, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      const hint = known.length > 0 ? `; known fields: ${known.join(', ')}` : '';
      return {
        path: join(path, String(params.additionalProperty)),
        message: `is not a known field${hint}`,
        atKey: true,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { path, message: `must be one of ${allowed} (got ${show(error.data)})` };
    }
    case 'type':
      return { path, message: `must be ${article(String(params.type))} (got ${typeName(error.data)})` };
    case 'pattern':
      return { path, message: `must match /${String(params.pattern)}/ (got ${show(error.data)})` };
    case 'anyOf':
    case 'oneOf': {
      const description = (error.parentSchema as { description?: string })?.description;
      return {
        path,
        message: description ? `is not valid: ${description}` : (error.message ?? 'is not valid'),
      };
    }
    case 'propertyNames':
      return {
        path: join(path, String(params.propertyName)),
        message: 'is not a valid name here (letters, digits, _ and -, starting with a letter or digit)',
        atKey: true,
      };
    case 'not': {
      const forbidden = (error.schema as { required?: string[] })?.required;
      return {
        path,
        message: forbidden ? `must not set ${forbidden.join(' and ')} together` : 'is not allowed here',
      };
    }
    default:
      return { path, message: `${error.message ?? 'is not valid'} (got ${show(error.data)})` };
  }
}

function toFieldPath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^\d+$/.test(segment) ? `${out}[${segment}]` : join(out, segment);
  }
  return out;
}

function join(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
