// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/**
 * Run-time expression evaluation. Safe inside the Temporal workflow sandbox: imports only
 * @marcbachmann/cel-js and engine types; no Node APIs, no eval. Parsed expressions are cached.
 *
 * Values crossing into CEL: integral JS numbers become CEL `int` (BigInt), other numbers
 * `double`. Values coming out: BigInt -> number, timestamps -> ISO strings, durations ->
 * milliseconds, maps -> plain objects, bytes -> arrays of numbers, optionals -> value or null.
 */
import { Duration, Environment, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { Failures } from './failures.js';
import type { Expr, JsonValue, Template } from './ir.js';

const runtimeEnv = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });
const parsed = new Map<string, (context: Record<string, unknown>) => unknown>();

/** An expression failed at run time; `expression` is the CEL source. */
export class ExpressionError extends Error {
  override readonly name = Failures.ExpressionError;
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(`expression \${{ ${expression} }} failed: ${message}`);
  }
}

/** Evaluate one compiled expression against the run-time context; returns plain JSON-ish data. */
export function evaluate(expr: Expr | string, context: Record<string, unknown>): unknown {
  const cel = typeof expr === 'string' ? expr : expr.cel;
  let fn = parsed.get(cel);
  try {
    if (!fn) {
      const compiled = runtimeEnv.parse(cel);
      fn = (ctx) => compiled(ctx);
      parsed.set(cel, fn);
    }
    return fromCel(fn(toCelContext(context)));
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    const summary = (error as { summary?: string }).summary ?? (error as Error).message;
    throw new ExpressionError(cel.trim(), summary);
  }
}

/** Resolve a template: literals as is, `${{ x }}` to x's typed value, mixed text to a string. */
export function resolveTemplate(template: Template, context: Record<string, unknown>): unknown {
  switch (template.kind) {
    case 'literal':
      return template.value;
    case 'expr':
      return evaluate(template.expr, context);
    case 'text':
      return template.parts
        .map((p) => (typeof p === 'string' ? p : stringify(evaluate(p, context))))
        .join('');
    case 'list':
      return template.items.map((t) => resolveTemplate(t, context));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(template.fields)) out[k] = resolveTemplate(t, context);
      return out;
    }
  }
}

/** How a value appears inside interpolated text. */
export function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const celCache = new WeakMap<object, unknown>();

/** JS value -> CEL value (integral numbers to BigInt), cached per object identity. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof Uint8Array) return value;
  const hit = celCache.get(value);
  if (hit !== undefined) return hit;
  let out: unknown;
  if (Array.isArray(value)) out = value.map(toCel);
  else if (value instanceof Map) out = new Map([...value].map(([k, v]) => [k, toCel(v)]));
  else {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) obj[k] = toCel(v);
    out = obj;
  }
  celCache.set(value, out);
  return out;
}

function toCelContext(context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (v !== undefined) out[k] = toCel(v);
  return out;
}

/** CEL value -> plain data (BigInt to number; see the header). */
export function fromCel(value: unknown): JsonValue {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`integer ${value} does not fit in a JavaScript number`);
    }
    return Number(value);
  }
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (value instanceof Duration) return Number(value.valueOf());
  if (value instanceof UnsignedInt) return fromCel(value.valueOf());
  if (typeof value === 'object') {
    const ctorName = (value as object).constructor?.name ?? '';
    if (ctorName === 'Optional') {
      const opt = value as { hasValue(): boolean; value(): unknown };
      return opt.hasValue() ? fromCel(opt.value()) : null;
    }
    if (ctorName === 'Type' && 'name' in value) return String((value as { name: unknown }).name);
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return null;
}
