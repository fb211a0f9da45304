// Temporal's remote codec protocol on the gateway, so the owner reads encrypted conversations in
// the Web UI and with `temporal workflow show --codec-endpoint`: POST {payloads:[{metadata,data}]}
// (bytes in base64, as protobuf JSON writes them) to /codec/encode or /codec/decode with the
// gateway token, or to /codec/ui/<key>/… from the Web UI (temporal/codec-endpoint.ts). Browsers
// get CORS for the Web UI's origins only.

import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CODEC_PATH, uiCodecPath } from '../temporal/codec-endpoint.js';
import { requireToken, secretsMatch } from './auth.js';

export interface CodecOptions {
  codec: PayloadCodec;
  token: string;
  /** Origins allowed to call from a browser (the Temporal Web UI's). */
  origins: string[];
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const BASE64 = '^[A-Za-z0-9+/_-]*={0,2}$';
const bodySchema = {
  type: 'object',
  required: ['payloads'],
  properties: {
    payloads: {
      type: 'array',
      maxItems: 10_000,
      items: {
        type: 'object',
        properties: {
          metadata: { type: 'object', additionalProperties: { type: 'string', pattern: BASE64 } },
          data: { type: 'string', pattern: BASE64 },
        },
      },
    },
  },
} as const;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export const codecPlugin: FastifyPluginAsync<CodecOptions> = async (app, { codec, token, origins }) => {
  const uiPath = uiCodecPath(token);
  // Every answer of this plugin (errors included) carries CORS for the Web UI's origins.
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    reply.header('vary', 'Origin');
    if (!origin || !origins.includes(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
  });
  const handle = (op: 'encode' | 'decode') => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const { payloads } = req.body as { payloads: JsonPayload[] };
      const out = await codec[op](payloads.map(fromJson));
      return { payloads: out.map(toJson) };
    } catch (err) {
      return reply.code(422).send({ error: { code: 'codec_failed', message: (err as Error).message } });
    }
  };
  const uiKeyMatches = async (req: FastifyRequest, reply: FastifyReply) => {
    const { key } = req.params as { key: string };
    if (!secretsMatch(`${CODEC_PATH}/ui/${key}`, uiPath)) {
      return reply.code(401).send({
        error: {
          code: 'unauthorized',
          message: 'wrong codec key: use the endpoint `switchyard up` gave the Web UI',
        },
      });
    }
  };
  for (const op of ['encode', 'decode'] as const) {
    app.post(
      `${CODEC_PATH}/${op}`,
      { schema: { body: bodySchema }, preValidation: requireToken(token) },
      handle(op),
    );
    app.post(
      `${CODEC_PATH}/ui/:key/${op}`,
      { schema: { body: bodySchema }, preValidation: uiKeyMatches },
      handle(op),
    );
    for (const path of [`${CODEC_PATH}/${op}`, `${CODEC_PATH}/ui/:key/${op}`]) {
      app.options(path, async (_req, reply) => {
        reply.header('access-control-allow-methods', 'POST, OPTIONS');
        reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
        reply.header('access-control-max-age', '600');
        return reply.code(204).send();
      });
    }
  }
};
