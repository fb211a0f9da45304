import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Constant-time comparison of two secrets of possibly different lengths. */
export function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** preHandler: `Authorization: Bearer <token>` (or OpenClaw's `x-openclaw-token`) must match. */
export function requireToken(token: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : req.headers['x-openclaw-token'];
    if (typeof given !== 'string' || !secretsMatch(given, token)) {
      return reply.code(401).send({
        error: {
          code: 'unauthorized',
          message:
            'Missing or wrong gateway token: send "Authorization: Bearer <token>" (the token is in <data dir>/gateway.token or SWITCHYARD_GATEWAY_TOKEN).',
        },
      });
    }
  };
}
