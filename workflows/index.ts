export { agentTurnWorkflow } from './agent/index.js';
export { channelMessageWorkflow } from './channel/channel-message.js';
export { echoWorkflow } from './echo.js';
export { pipelineWorkflow } from './pipeline/pipeline.js';
export { scheduledTaskWorkflow } from './schedule/schedule.js';
export { sessionWorkflow } from './session/session.js';
