// Test-only workflow entry: the scheduled-task workflow and the pipeline interpreter it starts.
// (The production entry, workflows/index.ts, gains scheduledTaskWorkflow when the lead wires it.)
export { pipelineWorkflow } from '../../workflows/pipeline/pipeline.js';
export { scheduledTaskWorkflow } from '../../workflows/schedule/schedule.js';
