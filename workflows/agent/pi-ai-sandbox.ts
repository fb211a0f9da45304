/**
 * What `@mariozechner/pi-ai` is inside the workflow bundle (worker/bundler-options.ts aliases
 * it here): only the pieces pi-agent-core's loop uses, none of the provider SDKs. Model calls
 * happen in activities; `streamSimple` must never run in a workflow.
 */
export {
  AssistantMessageEventStream,
  createAssistantMessageEventStream,
  EventStream,
} from '@switchyard/pi-ai-event-stream';
export { validateToolArguments, validateToolCall } from '@switchyard/pi-ai-validation';

export function streamSimple(): never {
  throw new Error(
    'pi-ai streamSimple was called inside a workflow: model calls must go through the agentModelCall activity',
  );
}
