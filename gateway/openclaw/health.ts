import { type ConnectorStatus, connectorProblem } from '../../channels/status.js';
import type { HealthOptions } from '../health.js';
import { checkReadiness } from '../health.js';
import { SWITCHYARD_VERSION } from '../version.js';
import type { GatewayHealth, GatewayServices, JsonObject } from './protocol/services.js';

/**
 * `health`, `status` and `channels.status` of the OpenClaw protocol, from the real Temporal
 * readiness check and the connectors' own reports. The other methods' services (chat, sessions, models, config,
 * approvals, cron) are added by the gateway (gateway/server.ts).
 */
export function createProtocolServices(health: HealthOptions): GatewayServices {
  return {
    async health(): Promise<GatewayHealth> {
      // OpenClaw's schema only knows a healthy gateway (ok: true): this process answers. Temporal's
      // state is reported by `status` and /readyz; each channel account's by `channels` here.
      return gatewayHealth(`temporal://${health.address}/${health.namespace}`, health.connectors?.() ?? []);
    },
    async status() {
      const readiness = await checkReadiness(health);
      return {
        server: { name: 'switchyard', version: SWITCHYARD_VERSION },
        temporal: readiness.temporal,
        taskQueue: health.taskQueue,
        workers: readiness.workers,
        uptimeMs: readiness.uptimeMs,
        channels: readiness.channels as unknown as JsonObject[],
        problems: readiness.problems,
        // Replies whose send had an unknown outcome (`switchyard outbox list --uncertain` lists them).
        ...(health.uncertainSends ? { uncertainSends: health.uncertainSends() } : {}),
      };
    },
    async channelsStatus(params) {
      return channelsStatus(health.connectors?.() ?? [], params.channel);
    },
  };
}

/**
 * OpenClaw's `channels.status` result: each channel's default (first) account's fields, every
 * account in `channelAccounts`, with `channel` only that channel. The connectors report their
 * state as it changes, so the answer is always live: `probe` asks for nothing more.
 */
export function channelsStatus(connectors: readonly ConnectorStatus[], channel?: string): JsonObject {
  const now = Date.now();
  const channels: Record<string, JsonObject> = {};
  const channelAccounts: Record<string, JsonObject[]> = {};
  const channelDefaultAccountId: Record<string, string> = {};
  const order: string[] = [];
  for (const status of connectors) {
    if (channel !== undefined && status.channel !== channel) continue;
    const account = accountSummary(status, now);
    const accounts = channelAccounts[status.channel];
    if (accounts) accounts.push(account);
    else {
      order.push(status.channel);
      channelAccounts[status.channel] = [account];
      channelDefaultAccountId[status.channel] = status.accountId;
      channels[status.channel] = { ...account };
    }
  }
  return {
    ts: now,
    channelOrder: order,
    channelLabels: Object.fromEntries(order.map((id) => [id, LABELS[id] ?? id])),
    channels,
    channelAccounts,
    channelDefaultAccountId,
  };
}

const LABELS: Record<string, string> = {
  telegram: 'Telegram',
  whatsapp: 'WhatsApp',
  slack: 'Slack',
  discord: 'Discord',
};

/**
 * The `health` payload of a gateway that answers; `sessionsPath` says where sessions live.
 * `channels` follows OpenClaw's shape: per channel the default (first) account's fields plus
 * `accounts` by id, each with `configured`, `running`, `connected`, `healthState`, `lastError`…
 * (the fields of OpenClaw's channels.status accounts).
 */
export function gatewayHealth(
  sessionsPath: string,
  connectors: readonly ConnectorStatus[] = [],
): GatewayHealth {
  const now = Date.now();
  const channels: Record<string, JsonObject> = {};
  const order: string[] = [];
  for (const status of connectors) {
    const account = accountSummary(status, now);
    const entry = channels[status.channel];
    if (entry) (entry.accounts as Record<string, JsonObject>)[status.accountId] = account;
    else {
      order.push(status.channel);
      channels[status.channel] = { ...account, accounts: { [status.accountId]: account } };
    }
  }
  return {
    ok: true,
    ts: now,
    durationMs: 0,
    channels,
    channelOrder: order,
    channelLabels: Object.fromEntries(order.map((id) => [id, LABELS[id] ?? id])),
    heartbeatSeconds: 0,
    defaultAgentId: 'main',
    sessions: { path: sessionsPath, count: 0, recent: [] },
  };
}

function accountSummary(status: ConnectorStatus, now: number): JsonObject {
  const running = status.state !== 'stopped' && status.state !== 'disabled';
  return {
    accountId: status.accountId,
    configured: true,
    enabled: status.state !== 'disabled',
    running,
    connected: status.state === 'connected',
    linked: status.state !== 'logged-out',
    healthState: status.state,
    since: status.since,
    reconnectAttempts: status.attempt ?? 0,
    lastConnectedAt: status.lastConnectedAt ?? null,
    lastInboundAt: status.lastInboundAt ?? null,
    lastError: status.lastError ?? null,
    problem: connectorProblem(status, now) ?? null,
    ...(status.mode ? { mode: status.mode } : {}),
    ...(status.action ? { action: status.action } : {}),
  };
}
