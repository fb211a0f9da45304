// Validation at the door. The compiled validators of @openclaw/gateway-protocol are the source of
// truth; the few methods the package has no params schema for get a small JSON Schema here.
import { formatValidationErrors, type validateConnectParams } from '@openclaw/gateway-protocol';
import { Ajv } from 'ajv';
import type { Guarded } from './services.js';

export type ConnectRequest = Guarded<typeof validateConnectParams>;

/** A compiled validator: a type guard whose `errors` explain the last failure. */
export type ParamsValidator = ((value: unknown) => boolean) & { errors?: unknown };

export function explain(validator: ParamsValidator): string {
  return formatValidationErrors(validator.errors as Parameters<typeof formatValidationErrors>[0]);
}

const ajv = new Ajv({ allErrors: false, strict: true });

const noParams = ajv.compile({ type: 'object' });

/** Params of methods OpenClaw's package publishes no schema for. */
export const localParamsValidators = {
  health: ajv.compile({ type: 'object', properties: { probe: { type: 'boolean' } } }),
  status: noParams,
  'gateway.identity.get': noParams,
  'system-presence': noParams,
  'last-heartbeat': noParams,
  'voicewake.get': noParams,
  'set-heartbeats': ajv.compile({
    type: 'object',
    required: ['enabled'],
    properties: { enabled: { type: 'boolean' } },
    additionalProperties: false,
  }),
  'voicewake.set': ajv.compile({
    type: 'object',
    required: ['triggers'],
    properties: {
      triggers: {
        type: 'array',
        maxItems: 32,
        items: { type: 'string', minLength: 1, maxLength: 64 },
      },
    },
    additionalProperties: false,
  }),
} satisfies Record<string, ParamsValidator>;
