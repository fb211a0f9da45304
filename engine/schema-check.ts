/** Structural validation of a pipeline document against schemas/pipeline.schema.json (ajv). */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import pipelineSchema from '../schemas/pipeline.schema.json' with { type: 'json' };
import { didYouMean, type PipelineError } from './errors.js';
import type { FieldPath, PipelineSource } from './source.js';

export { pipelineSchema };

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(pipelineSchema);
  return validator;
}

/** All schema violations, with friendly messages, positioned at the offending YAML. */
export function checkSchema(source: PipelineSource): PipelineError[] {
  const validate = getValidator();
  if (validate(source.data)) return [];
  // `if`/`then` (the fields only some step types take) adds a summary next to the precise errors.
  const raw = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
  // Alternatives (anyOf/oneOf) report every branch's failure. At the alternative's own path,
  // type errors come from branches that do not apply: drop them, and keep the summary only
  // when nothing more precise is left.
  const alternatives = raw.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const altPaths = new Set(alternatives.map((a) => a.instancePath));
  let kept = raw.filter((e) => !(altPaths.has(e.instancePath) && e.keyword === 'type'));
  kept = kept.filter(
    (e) =>
      !(e.keyword === 'anyOf' || e.keyword === 'oneOf') ||
      !kept.some(
        (o) =>
          o !== e &&
          o.keyword !== 'anyOf' &&
          o.keyword !== 'oneOf' &&
          o.instancePath.startsWith(e.instancePath),
      ),
  );
  // propertyNames failures come with a nested pattern error for the same name: keep one.
  const out: PipelineError[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    if (e.keyword === 'pattern' && e.propertyName !== undefined) continue;
    const err = toPipelineError(source, e);
    const key = `${err.line}:${err.column}:${err.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(err);
    }
  }
  return out;
}

function pointerToPath(pointer: string): FieldPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(data: unknown, path: FieldPath): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function toPipelineError(source: PipelineSource, e: ErrorObject): PipelineError {
  const path = pointerToPath(e.instancePath);
  const value = valueAt(source.data, path);
  const where = whereOf(path);
  const parentSchema = e.parentSchema as
    | { description?: string; properties?: Record<string, unknown> }
    | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(parentSchema?.properties ?? {});
      return source.error(
        [...path, field],
        `unknown field '${field}'${didYouMean(field, allowed)}; expected one of: ${allowed.join(', ')}`,
        field,
        { key: true },
      );
    }
    case 'required': {
      const field = String((e.params as { missingProperty: string }).missingProperty);
      return source.error(path, `'${where}' is missing the required field '${field}'`);
    }
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type)
        .replace('object', 'mapping')
        .replace('array', 'list')
        .replace(',', ' or ');
      return source.error(path, `'${where}' must be ${article(expected)}, got ${describe(value)}`, value);
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
      return source.error(
        path,
        `'${where}' must be one of ${allowed.join(', ')}, got ${describe(value)}`,
        value,
      );
    }
    case 'pattern': {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      const hint =
        description && `${description.charAt(0).toLowerCase()}${description.slice(1).replace(/\.$/, '')}`;
      return source.error(
        path,
        `'${where}' is not valid: ${describe(value)}; expected ${hint ?? e.message}`,
        value,
      );
    }
    case 'propertyNames': {
      const name = String((e.params as { propertyName: string }).propertyName);
      return source.error(
        [...path, name],
        `'${name}' is not a valid name: use letters, digits and underscores, not starting with a digit`,
        name,
        { key: true },
      );
    }
    case 'anyOf':
    case 'oneOf':
      return source.error(
        path,
        `'${where}' has the wrong shape (${describe(value)}); expected ${parentSchema?.description ?? e.message}`,
        value,
      );
    case 'minItems':
    case 'minProperties':
      return source.error(path, `'${where}' must not be empty`, value);
    case 'minimum':
      return source.error(path, `'${where}' ${e.message}, got ${describe(value)}`, value);
    case 'uniqueItems':
      return source.error(path, `'${where}' lists the same item twice`, value);
    default:
      return source.error(path, `'${where}' ${e.message ?? 'is invalid'}`, value);
  }
}

function whereOf(path: FieldPath): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'pipeline';
  if (typeof last === 'number') return `${String(path[path.length - 2] ?? '')}[${last}]`;
  return last;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
