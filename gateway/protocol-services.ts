import type { HealthOptions } from './health.js';
import { checkReadiness } from './health.js';
import type { GatewayHealth, GatewayServices } from './protocol/services.js';
import { SWITCHYARD_VERSION } from './version.js';

/**
 * What the OpenClaw protocol layer can ask of Switchyard today: health and status from the
 * real Temporal readiness check. Sessions, chat and runs join as the session workflows land;
 * until then their methods answer UNAVAILABLE (the plugin's behaviour for absent services).
 */
export function createProtocolServices(health: HealthOptions): GatewayServices {
  return {
    async health(): Promise<GatewayHealth> {
      // OpenClaw's schema only knows a healthy gateway (ok: true): this process answers. Temporal's
      // state is reported by `status` and /readyz.
      return {
        ok: true,
        ts: Date.now(),
        durationMs: 0,
        channels: {},
        channelOrder: [],
        channelLabels: {},
        heartbeatSeconds: 0,
        defaultAgentId: 'main',
        sessions: { path: `temporal://${health.address}/${health.namespace}`, count: 0, recent: [] },
      };
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
