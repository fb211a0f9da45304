/** The one guard for "a plain mapping": an object that is not null and not an array. Run-time half: imports nothing. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
