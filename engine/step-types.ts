/**
 * The step-type registry: what `uses:` may name, its arguments (`with:`) and output shape.
 * The compiler checks `with:` against `with` and types `steps.<id>.output` from `output`.
 * Schemas are a JSON Schema subset (type, properties, required, items, enum,
 * additionalProperties).
 */
import type { JsonValue } from './ir.js';

export interface StepTypeDefinition {
  description: string;
  /** `activity`: a Temporal activity named `activity`. `workflow`: run by the interpreter itself. */
  execution: 'activity' | 'workflow';
  activity?: string;
  /** Schema of the `with:` object. Absent: any arguments. */
  with?: Record<string, JsonValue>;
  /** Schema of the output, for type-checking expressions. Absent: dynamic. */
  output?: Record<string, JsonValue>;
  /** Used when neither the step nor the pipeline `defaults:` set them. */
  defaults?: { timeout?: string; retry?: { max_attempts?: number; initial_interval?: string } };
  /** True while the implementation is an honest placeholder (see docs/pipelines.md). */
  placeholder?: boolean;
  /**
   * The activity is short, reads rather than changes the world, and may run twice: it runs as a
   * local activity, inside the workflow task that reaches it (no round trip through Temporal's
   * task queue, one marker in history instead of three events). Compiled into `UsesStep.local`.
   */
  local?: boolean;
}

export type StepTypeRegistry = Readonly<Record<string, StepTypeDefinition>>;

const str = { type: 'string' } as const;
const anyObject = { type: 'object' } as const;

export const builtInStepTypes: StepTypeRegistry = {
  noop: {
    description: 'Does nothing. Output: null.',
    execution: 'workflow',
    with: { type: 'object', properties: {}, additionalProperties: false },
  },
  log: {
    description: 'Writes a line to the workflow log. Output: null.',
    execution: 'workflow',
    with: {
      type: 'object',
      properties: { message: str, level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] } },
      required: ['message'],
      additionalProperties: false,
    },
  },
  echo: {
    description: 'Returns its `value` argument as output (useful in tests and to shape data).',
    execution: 'workflow',
    with: { type: 'object', properties: { value: {} }, required: ['value'], additionalProperties: false },
  },
  'media.enrich': {
    description:
      "Makes every attachment something the agent can use: images model-ready, voice notes and audio transcribed, videos' sound transcribed and stills taken, documents read. Never fails: an attachment that cannot be read becomes a note saying why.",
    execution: 'workflow',
    with: {
      type: 'object',
      properties: {
        attachments: { type: 'array' },
        agent: str,
        transcribe: { type: 'boolean' },
        describe: { type: 'boolean' },
      },
      required: ['attachments'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        items: { type: 'array', items: anyObject },
        text: str,
        images: { type: 'array', items: anyObject },
        summary: str,
      },
    },
  },
  'media.image': {
    description:
      'Makes one image attachment model-ready (upright, long side capped, JPEG, metadata stripped) and returns the stored image.',
    execution: 'workflow',
    with: {
      type: 'object',
      properties: { attachment: anyObject, max_side: { type: 'integer', minimum: 64 } },
      required: ['attachment'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        sha256: str,
        mime: str,
        width: { type: 'integer' },
        height: { type: 'integer' },
        original: anyObject,
      },
    },
    defaults: { timeout: '1m', retry: { max_attempts: 3, initial_interval: '2s' } },
  },
  'media.transcribe': {
    description:
      "Transcribes one voice note, audio file or video's sound with the agent's speech-to-text providers (or `providers`).",
    execution: 'workflow',
    with: {
      type: 'object',
      properties: {
        attachment: anyObject,
        agent: str,
        providers: { type: 'array', items: str },
        language: str,
      },
      required: ['attachment'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        text: str,
        durationSec: { type: 'number' },
        truncated: { type: 'boolean' },
        provider: str,
      },
    },
    defaults: { timeout: '15m', retry: { max_attempts: 4, initial_interval: '3s' } },
  },
  'media.pdf': {
    description: 'Reads the text of one PDF attachment, up to a page and character limit.',
    execution: 'workflow',
    with: {
      type: 'object',
      properties: {
        attachment: anyObject,
        max_pages: { type: 'integer', minimum: 1 },
        max_chars: { type: 'integer', minimum: 100 },
      },
      required: ['attachment'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        text: str,
        truncated: { type: 'boolean' },
        totalPages: { type: 'integer' },
        pagesRead: { type: 'integer' },
        likelyScanned: { type: 'boolean' },
      },
    },
    defaults: { timeout: '3m', retry: { max_attempts: 2, initial_interval: '2s' } },
  },
  'memory.recall': {
    description:
      "Searches the agent's memory notes (MEMORY.md and memory/*.md), hybrid vector + keyword; hits are short snippets with their source (path#Lstart-Lend) and score.",
    execution: 'activity',
    activity: 'memoryRecall',
    local: true,
    with: {
      type: 'object',
      properties: {
        query: str,
        limit: { type: 'integer', minimum: 1, maximum: 20 },
        agent: str,
        min_score: { type: 'number', minimum: 0, maximum: 1 },
      },
      required: ['query'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        hits: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              text: str,
              score: { type: 'number' },
              source: str,
              path: str,
              startLine: { type: 'integer' },
              endLine: { type: 'integer' },
            },
          },
        },
        stale: { type: 'boolean' },
      },
    },
    defaults: { timeout: '30s' },
  },
  'memory.remember': {
    description:
      "Appends text to the agent's daily note (memory/YYYY-MM-DD.md) or to MEMORY.md, exactly once across retries, and indexes it.",
    execution: 'activity',
    activity: 'memoryRemember',
    with: {
      type: 'object',
      properties: {
        text: str,
        target: { type: 'string', enum: ['daily', 'long-term'] },
        agent: str,
      },
      required: ['text'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: { path: str, appended: { type: 'boolean' } },
    },
    defaults: { timeout: '1m' },
  },
  'agent.turn': {
    description:
      'Runs one agent turn (pi-agent-core loop in the workflow: one activity per model call and per tool call) and returns its reply.',
    execution: 'workflow',
    with: {
      type: 'object',
      properties: {
        agent: str,
        prompt: str,
        context: {},
        attachments: { type: 'array' },
        images: { type: 'array' },
        transcript: { type: 'array' },
        summary: str,
        model: str,
        thinking: { type: 'string', enum: ['off', 'minimal', 'low', 'medium', 'high'] },
        tools: { type: 'array', items: str },
        // Checked and compiled by engine/pipeline-tools.ts into `UsesStep.pipelineTools`.
        pipeline_tools: { type: 'array' },
        // Checked and compiled by engine/tool-options.ts into `UsesStep.toolOptions`.
        tool_options: { type: 'object' },
      },
      required: ['prompt'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        text: str,
        messages: { type: 'array', items: anyObject },
        transcript: { type: 'array', items: anyObject },
        summary: str,
        compacted: { type: 'boolean' },
        model: str,
        stopReason: str,
        usage: anyObject,
        media: { type: 'array', items: anyObject },
      },
    },
    defaults: { timeout: '10m' },
  },
  'reply.send': {
    description:
      'Sends text to a chat through its connector, exactly once: the send activity runs on the connector task queue (channel.<channel>) with the idempotency key <workflow id>:<step id>. Defaults to the chat the message came from.',
    execution: 'workflow',
    with: {
      type: 'object',
      properties: {
        channel: str,
        account: str,
        chat: str,
        text: str,
        reply_to: str,
        thread: str,
        media: { type: 'array' },
        kind: {
          type: 'string',
          enum: ['answer', 'error'],
          description:
            'error: the text says the message could not be answered; chats show it as usual, OpenClaw clients end the run as an error. Default answer.',
        },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        channel: str,
        chat: str,
        messageIds: { type: 'array', items: str },
        chunks: { type: 'integer' },
        skipped: { type: 'integer' },
      },
    },
    defaults: { timeout: '1m', retry: { max_attempts: 5, initial_interval: '1s' } },
  },
};
