/**
 * The workflow sandbox has no `structuredClone`, and pi-ai's tool-argument validation calls it:
 * without this shim every tool call quietly becomes an error result ("structuredClone is not
 * defined") while the turn still "succeeds". Tool arguments are JSON, so a JSON round trip is
 * an exact clone. Import this module before anything that runs the agent loop.
 */
const scope = globalThis as { structuredClone?: <T>(value: T) => T };
if (typeof scope.structuredClone !== 'function') {
  scope.structuredClone = <T>(value: T): T =>
    value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
