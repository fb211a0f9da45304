// What the OpenAI-compatible API accepts and how it says no: request schemas (fastify validates
// them at the door) and error bodies in OpenAI's shape, so OpenAI SDKs show the message.

export const chatCompletionBodySchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1 },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
          // One `type` list, not anyOf: fastify's ajv coerces types, and anyOf branches would
          // coerce the value for each other.
          content: {
            type: ['string', 'null', 'array'],
            items: {
              type: 'object',
              required: ['type'],
              properties: { type: { type: 'string' }, text: { type: 'string' } },
            },
          },
          name: { type: 'string' },
        },
      },
    },
    stream: { type: 'boolean' },
    stream_options: {
      type: ['object', 'null'],
      properties: { include_usage: { type: 'boolean' } },
    },
    user: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

export type ContentPart = { type: string; text?: string };

export interface ChatCompletionBody {
  model: string;
  messages: Array<{ role: string; content?: string | null | ContentPart[]; name?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
}

export type OpenaiErrorType = 'invalid_request_error' | 'authentication_error' | 'server_error' | 'timeout';

export interface OpenaiErrorBody {
  error: { message: string; type: OpenaiErrorType; param: string | null; code: string | null };
}

export function openaiError(
  message: string,
  type: OpenaiErrorType,
  code: string | null = null,
  param: string | null = null,
): OpenaiErrorBody {
  return { error: { message, type, param, code } };
}
