import { type AgentActivityDeps, createAgentActivities } from './agent/index.js';
import { createEchoActivities } from './echo.js';
import { createMediaActivities, type MediaActivityDeps } from './media/index.js';
import { createPipelineStepActivities, type PipelineStepDeps } from './pipeline-steps.js';
import { createScheduleActivities, type ScheduleActivityDeps } from './schedule.js';

/** Everything a worker needs to perform side effects; grows as activities land. */
export interface ActivityDeps {
  pipelineSteps?: PipelineStepDeps;
  /** Providers, agents, tools and the live-delta sink of the agent turn. Absent: no agent.turn. */
  agent?: AgentActivityDeps;
  /** The blob store, media settings and the speech engine of the media stage. Absent: no media activities. */
  media?: MediaActivityDeps;
  /** Pipeline loading, session hand-off and webhooks of scheduled tasks. Absent: no schedules. */
  schedule?: ScheduleActivityDeps;
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
    ...(deps.agent ? createAgentActivities(deps.agent) : {}),
    ...(deps.media ? createMediaActivities(deps.media) : {}),
    ...(deps.schedule ? createScheduleActivities(deps.schedule) : {}),
  };
}

export type Activities = ReturnType<typeof createActivities>;
