import type { HealthOptions } from '../health.js';
import { checkReadiness } from '../health.js';
import { SWITCHYARD_VERSION } from '../version.js';
import type { GatewayHealth, GatewayServices } from './protocol/services.js';

/**
 * `health` and `status` of the OpenClaw protocol, from the real Temporal readiness check. The
 * other methods' services (chat, sessions, models, config, approvals, cron) are added by the
 * gateway (gateway/server.ts).
 */
export function createProtocolServices(health: HealthOptions): GatewayServices {
  return {
    async health(): Promise<GatewayHealth> {
      // OpenClaw's schema only knows a healthy gateway (ok: true): this process answers. Temporal's
      // state is reported by `status` and /readyz.
      return gatewayHealth(`temporal://${health.address}/${health.namespace}`);
    },
    async status() {
      const readiness = await checkReadiness(health);
      return {
        server: { name: 'switchyard', version: SWITCHYARD_VERSION },
        temporal: readiness.temporal,
        taskQueue: health.taskQueue,
        workers: readiness.workers,
        uptimeMs: readiness.uptimeMs,
      };
    },
  };
}

/** The `health` payload of a gateway that answers; `sessionsPath` says where sessions live. */
export function gatewayHealth(sessionsPath: string): GatewayHealth {
  return {
    ok: true,
    ts: Date.now(),
    durationMs: 0,
    channels: {},
    channelOrder: [],
    channelLabels: {},
    heartbeatSeconds: 0,
    defaultAgentId: 'main',
    sessions: { path: sessionsPath, count: 0, recent: [] },
  };
}
