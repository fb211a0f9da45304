/**
 * Mapping JSON Schema (subset) to CEL types for compile-time checking, and the default shape
 * of the inbound message envelope.
 */
import inboundMessageSchema from '../schemas/inbound-message.schema.json' with { type: 'json' };
import type { JsonValue } from './ir.js';

/** A CEL type name, or an object type with named fields (registered as a CEL message type). */
export type TypeSpec = string | { fields: Record<string, TypeSpec> } | { list: TypeSpec };

export const DYN = 'dyn';

/** JSON Schema subset -> TypeSpec. `number` is dyn: at run time 2.0 arrives as int, 2.5 as double. */
export function typeFromSchema(schema: unknown): TypeSpec {
  if (!schema || typeof schema !== 'object') return DYN;
  const s = schema as Record<string, unknown>;
  switch (s.type) {
    case 'string':
      return 'string';
    case 'integer':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'array': {
      const item = typeFromSchema(s.items);
      return typeof item === 'string' ? `list<${item}>` : { list: item };
    }
    case 'object': {
      const props = s.properties;
      if (props && typeof props === 'object' && Object.keys(props).length > 0) {
        const fields: Record<string, TypeSpec> = {};
        for (const [k, v] of Object.entries(props)) fields[k] = typeFromSchema(v);
        return { fields };
      }
      return 'map<string, dyn>';
    }
    default:
      return DYN;
  }
}

/** CEL type of a literal YAML value. */
export function typeOfLiteral(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'int' : 'double';
  if (Array.isArray(value)) return 'list<dyn>';
  if (value && typeof value === 'object') return 'map<string, dyn>';
  return DYN;
}

/**
 * Schema of `message`: the inbound envelope every connector produces
 * (schemas/inbound-message.schema.json). Callers may pass another as `CompileOptions.messageSchema`.
 */
export const defaultMessageSchema: Record<string, JsonValue> = inboundMessageSchema as Record<
  string,
  JsonValue
>;
