export { agentTurnWorkflow } from './agent/index.js';
export { channelMessageWorkflow } from './channel-message.js';
export { echoWorkflow } from './echo.js';
export { pipelineWorkflow } from './pipeline.js';
export { scheduledTaskWorkflow } from './schedule.js';
export { sessionWorkflow } from './session.js';
