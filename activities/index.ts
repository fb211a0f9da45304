import { createEchoActivities } from './echo.js';
import { createPipelineStepActivities, type PipelineStepDeps } from './pipeline-steps.js';

/** Everything a worker needs to perform side effects; grows as activities land. */
export interface ActivityDeps {
  pipelineSteps?: PipelineStepDeps;
  /**
   * More activities by name, e.g. the step types a test registers through
   * `compilePipeline(…, { stepTypes })`. They never replace the built-in ones.
   */
  extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
}

export function createActivities(deps: ActivityDeps = {}) {
  return {
    ...deps.extraActivities,
    ...createEchoActivities(),
    ...createPipelineStepActivities(deps.pipelineSteps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
