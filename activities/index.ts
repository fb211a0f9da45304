import { createEchoActivities } from './echo.js';

/** Everything a worker needs to perform side effects; grows as activities land. */
export type ActivityDeps = Record<string, never>;

export function createActivities(_deps: ActivityDeps = {}) {
  return {
    ...createEchoActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
