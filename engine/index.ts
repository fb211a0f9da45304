/**
 * The pipeline language, outside the workflow sandbox. Workflow code must NOT import this file
 * (it pulls in yaml and ajv); it imports `engine/expr.js`, `engine/duration.js` and
 * `engine/ir.js` only.
 */
export { defaultMessageSchema, type TypeSpec, typeFromSchema } from './cel-types.js';
export { type CompileOptions, type CompileResult, compilePipeline, type PipelineFile } from './compile.js';
export { describePipeline, type PipelineDescription } from './describe.js';
export { DURATION_HINT, formatDuration, parseDuration } from './duration.js';
export { formatErrors, PipelineCompileError, type PipelineError } from './errors.js';
export { ExpressionError, evaluate, fromCel, resolveTemplate, toCel } from './expr.js';
export { canonicalJson, contentHash, sha256Hex } from './hash.js';
export type * from './ir.js';
export { IR_VERSION } from './ir.js';
export { renderMermaid } from './mermaid.js';
export { createPipelineRegistry, type PipelineRegistry, type UpdateResult } from './registry.js';
export { pipelineSchema } from './schema-check.js';
export { type PipelineSource, parsePipeline } from './source.js';
export { builtInStepTypes, type StepTypeDefinition, type StepTypeRegistry } from './step-types.js';
export { type TurnPlacement, turnPlacement } from './turn-placement.js';
