// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/**
 * Compiling YAML values that may hold `${{ }}` expressions into `Template`s, type-checking each
 * expression and, when a schema is given (step arguments, call inputs), the value's shape.
 */
import { typeOfLiteral } from './cel-types.js';
import { didYouMean, type PipelineError } from './errors.js';
import type { CheckResult, ExpressionChecker, Scope } from './expr-check.js';
import type { Expr, JsonValue, Template } from './ir.js';
import type { FieldPath, PipelineSource } from './source.js';
import { splitTemplate } from './template.js';

export interface ValueContext {
  src: PipelineSource;
  errors: PipelineError[];
  checker: ExpressionChecker;
}

type Schema = Record<string, unknown>;

export interface CompiledValue {
  template: Template;
  /** CEL type of the value (`dyn` when unknown). */
  type: string;
}

/** Check one CEL source found in the scalar at `path`, reporting at the exact column. */
export function checkExpr(
  ctx: ValueContext,
  cel: string,
  path: FieldPath,
  scope: Scope,
  where: { nth?: number; bare?: boolean } = {},
): { expr: Expr; ok: boolean } {
  const result: CheckResult = ctx.checker.check(cel, scope);
  if (result.ok) return { expr: { cel: cel.trim(), type: result.type }, ok: true };
  ctx.errors.push(
    ctx.src.error(path, result.error.message, `\${{ ${cel.trim()} }}`, {
      offset: exprOffset(ctx.src, path, where, result.error.start),
    }),
  );
  return { expr: { cel: cel.trim(), type: 'dyn' }, ok: false };
}

function exprOffset(
  src: PipelineSource,
  path: FieldPath,
  where: { nth?: number; bare?: boolean },
  start: number,
) {
  const scalar = src.scalarAt(path);
  if (!scalar) return undefined;
  if (where.bare) {
    const quoted = scalar.raw.startsWith('"') || scalar.raw.startsWith("'");
    return scalar.offset + (quoted ? 1 : 0) + start;
  }
  let idx = -1;
  for (let k = 0; k <= (where.nth ?? 0); k++) {
    idx = scalar.raw.indexOf('${{', idx + 1);
    if (idx < 0) return scalar.offset;
  }
  return scalar.offset + idx + 3 + start;
}

/** Compile a value; expressions are checked in `scope`; `schema` (optional) constrains the shape. */
export function compileValue(
  ctx: ValueContext,
  value: unknown,
  path: FieldPath,
  scope: Scope,
  schema?: Schema,
): CompiledValue {
  if (typeof value === 'string') {
    const compiled = compileString(ctx, value, path, scope);
    if (schema) {
      if (compiled.template.kind === 'expr') expectCompatible(ctx, compiled.type, schema, path, value);
      else checkLiteral(ctx, value, schema, path);
    }
    return compiled;
  }
  if (Array.isArray(value)) {
    if (schema && !allows(schema, 'array')) return mismatch(ctx, value, schema, path);
    const items = value.map((v, i) =>
      compileValue(ctx, v, [...path, i], scope, schema?.items as Schema | undefined),
    );
    return {
      template: items.every((i) => i.template.kind === 'literal')
        ? { kind: 'literal', value: value as JsonValue }
        : { kind: 'list', items: items.map((i) => i.template) },
      type: 'list<dyn>',
    };
  }
  if (value && typeof value === 'object') {
    if (schema && !allows(schema, 'object')) return mismatch(ctx, value, schema, path);
    const props = (schema?.properties ?? {}) as Record<string, Schema>;
    if (schema) checkObjectKeys(ctx, value as Record<string, unknown>, schema, path);
    const fields: Record<string, Template> = {};
    let allLiteral = true;
    for (const [k, v] of Object.entries(value)) {
      const c = compileValue(ctx, v, [...path, k], scope, props[k]);
      fields[k] = c.template;
      if (c.template.kind !== 'literal') allLiteral = false;
    }
    return {
      template: allLiteral ? { kind: 'literal', value: value as JsonValue } : { kind: 'object', fields },
      type: 'map<string, dyn>',
    };
  }
  if (schema) checkLiteral(ctx, value, schema, path);
  return { template: { kind: 'literal', value: (value ?? null) as JsonValue }, type: typeOfLiteral(value) };
}

function compileString(ctx: ValueContext, value: string, path: FieldPath, scope: Scope): CompiledValue {
  const split = splitTemplate(value);
  if (split.unterminatedAt !== undefined) {
    const scalar = ctx.src.scalarAt(path);
    const rawIdx = scalar ? scalar.raw.indexOf('${{') : -1;
    ctx.errors.push(
      ctx.src.error(path, "expression is not closed: '${{' needs a matching '}}'", value, {
        offset: scalar && rawIdx >= 0 ? scalar.offset + rawIdx : undefined,
      }),
    );
    return { template: { kind: 'literal', value }, type: 'string' };
  }
  const exprs = split.pieces.filter((p) => p.isExpr);
  if (exprs.length === 0) return { template: { kind: 'literal', value }, type: 'string' };
  let nth = 0;
  const parts: Array<string | Expr> = [];
  let single: CompiledValue | undefined;
  for (const piece of split.pieces) {
    if (!piece.isExpr) {
      parts.push(piece.text);
      continue;
    }
    const { expr } = checkExpr(ctx, piece.text, path, scope, { nth: nth++ });
    parts.push(expr);
    if (split.pieces.length === 1) single = { template: { kind: 'expr', expr }, type: expr.type };
  }
  return single ?? { template: { kind: 'text', parts }, type: 'string' };
}

/** A condition: boolean, `${{ expr }}`, or bare CEL; must be a bool. */
export function compileCondition(ctx: ValueContext, value: unknown, path: FieldPath, scope: Scope): Expr {
  if (typeof value === 'boolean') return { cel: String(value), type: 'bool' };
  if (typeof value !== 'string') return { cel: 'false', type: 'bool' }; // schema reports the type
  const split = splitTemplate(value);
  let cel = value;
  let where: { nth?: number; bare?: boolean } = { bare: true };
  if (split.pieces.some((p) => p.isExpr) || split.unterminatedAt !== undefined) {
    const only = split.pieces[0];
    if (split.unterminatedAt !== undefined || split.pieces.length !== 1 || !only?.isExpr) {
      ctx.errors.push(
        ctx.src.error(
          path,
          'a condition must be one expression: write `${{ expr }}` or the bare expression',
          value,
        ),
      );
      return { cel: 'false', type: 'bool' };
    }
    cel = only.text;
    where = { nth: 0 };
  }
  const { expr, ok } = checkExpr(ctx, cel, path, scope, where);
  if (ok && expr.type !== 'bool' && expr.type !== 'dyn') {
    ctx.errors.push(
      ctx.src.error(path, `a condition must be a bool, but \${{ ${expr.cel} }} is ${expr.type}`, value),
    );
  }
  return expr;
}

const JSON_TO_CEL: Record<string, (t: string) => boolean> = {
  string: (t) => t === 'string',
  integer: (t) => t === 'int' || t === 'uint',
  number: (t) => t === 'int' || t === 'uint' || t === 'double',
  boolean: (t) => t === 'bool',
  array: (t) => t.startsWith('list'),
  object: (t) =>
    t.startsWith('map') || !/^(string|int|uint|double|bool|bytes|list.*|null|timestamp|.*Duration)$/.test(t),
};

function expectCompatible(
  ctx: ValueContext,
  celType: string,
  schema: Schema,
  path: FieldPath,
  value: unknown,
) {
  const expected = schema.type;
  if (typeof expected !== 'string' || celType === 'dyn' || celType === 'null') return;
  if (JSON_TO_CEL[expected]?.(celType) ?? true) return;
  ctx.errors.push(
    ctx.src.error(
      path,
      `'${lastName(path)}' expects ${expected}, but ${String(value).trim()} is ${celType}`,
      value,
    ),
  );
}

function allows(schema: Schema, type: string): boolean {
  return typeof schema.type !== 'string' || schema.type === type;
}

function mismatch(ctx: ValueContext, value: unknown, schema: Schema, path: FieldPath): CompiledValue {
  ctx.errors.push(
    ctx.src.error(path, `'${lastName(path)}' expects ${String(schema.type)}, got ${jsonKind(value)}`, value),
  );
  return { template: { kind: 'literal', value: value as JsonValue }, type: 'dyn' };
}

function checkObjectKeys(ctx: ValueContext, value: Record<string, unknown>, schema: Schema, path: FieldPath) {
  const props = Object.keys((schema.properties ?? {}) as object);
  for (const req of (schema.required ?? []) as string[]) {
    if (!(req in value))
      ctx.errors.push(ctx.src.error(path, `'${lastName(path)}' is missing the required field '${req}'`));
  }
  if (schema.additionalProperties === false) {
    for (const k of Object.keys(value)) {
      if (!props.includes(k)) {
        ctx.errors.push(
          ctx.src.error(
            [...path, k],
            `unknown field '${k}'${didYouMean(k, props)}; expected one of: ${props.join(', ') || '(none)'}`,
            k,
            { key: true },
          ),
        );
      }
    }
  }
}

function checkLiteral(ctx: ValueContext, value: unknown, schema: Schema, path: FieldPath) {
  const t = schema.type;
  const kind = jsonKind(value);
  const ok = typeof t !== 'string' || t === kind || (t === 'number' && kind === 'integer');
  if (!ok) {
    ctx.errors.push(
      ctx.src.error(path, `'${lastName(path)}' expects ${t}, got ${kind} ${JSON.stringify(value)}`, value),
    );
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    ctx.errors.push(
      ctx.src.error(
        path,
        `'${lastName(path)}' must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`,
        value,
      ),
    );
  }
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) {
    ctx.errors.push(
      ctx.src.error(path, `'${lastName(path)}' must be >= ${schema.minimum}, got ${value}`, value),
    );
  }
}

function jsonKind(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function lastName(path: FieldPath): string {
  return String(path[path.length - 1] ?? 'value');
}
