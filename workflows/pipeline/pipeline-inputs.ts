/**
 * Inputs at the door of a run: fill defaults from the IR's input schema, then check that
 * required inputs are present and have the declared JSON type. (The full schema was checked
 * at compile time; ajv cannot run in the workflow sandbox, so this is the small subset.)
 */

import { Failures } from '../../engine/failures.js';
import type { JsonSchemaObject } from '../../engine/ir.js';
import { isRecord } from '../../engine/records.js';
import { stepFailure } from './pipeline-errors.js';

export function prepareInputs(
  schema: JsonSchemaObject,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const inputs: Record<string, unknown> = { ...given };
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(schema.properties)) {
    const prop = (raw ?? {}) as { type?: string; default?: unknown };
    if (inputs[name] === undefined && prop.default !== undefined) inputs[name] = prop.default;
    const value = inputs[name];
    if (value === undefined) {
      if (schema.required.includes(name)) problems.push(`'${name}' is required`);
      continue;
    }
    if (prop.type && !hasType(value, prop.type)) {
      problems.push(`'${name}' must be ${prop.type}, got ${JSON.stringify(value)}`);
    }
  }
  for (const name of Object.keys(inputs)) {
    if (!(name in schema.properties)) problems.push(`'${name}' is not an input of this pipeline`);
  }
  if (problems.length > 0) throw stepFailure(Failures.InvalidInputs, `inputs: ${problems.join('; ')}`, '');
  return inputs;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return true;
  }
}
