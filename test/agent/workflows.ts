// Test-only workflow entry: the agent turn on its own, bundled with worker/bundler-options.ts.
export { agentTurnWorkflow } from '../../workflows/agent/index.js';
