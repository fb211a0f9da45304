// Module names that exist only in the workflow bundle (aliased by worker/bundler-options.ts to
// files inside pi-ai's dist/utils, which the package does not export).
declare module '@switchyard/pi-ai-event-stream' {
  export {
    AssistantMessageEventStream,
    createAssistantMessageEventStream,
    EventStream,
  } from '@mariozechner/pi-ai';
}
declare module '@switchyard/pi-ai-validation' {
  export { validateToolArguments, validateToolCall } from '@mariozechner/pi-ai';
}
