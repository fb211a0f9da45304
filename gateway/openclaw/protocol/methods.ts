// The method table: name → params validator, handler, idempotency. Methods that need nothing but
// the gateway are answered here; the rest call the GatewayServices the gateway was given. A
// delegated method whose service is absent is left out of the table and answers UNAVAILABLE.
import * as protocol from '@openclaw/gateway-protocol';
import { nodePayload } from './frames.js';
import type { OpenclawGateway } from './gateway.js';
import type { MethodReply } from './idempotency.js';
import type { GatewayServices, RequestContext } from './services.js';
import { localParamsValidators, type ParamsValidator } from './validators.js';

export interface MethodCall {
  ctx: RequestContext;
  gateway: OpenclawGateway;
}

export interface MethodEntry {
  validate: ParamsValidator;
  handle(params: never, call: MethodCall): Promise<MethodReply>;
  /** Honour params.idempotencyKey: the same key answers the same reply. */
  idempotent?: boolean;
  /** Rewrites a cached reply for a repeated key (e.g. chat.send's status becomes in_flight/ok). */
  replay?(reply: MethodReply, gateway: OpenclawGateway): MethodReply;
}

const reply = (payload: unknown): MethodReply => ({ payload });

function local<P>(validate: ParamsValidator, handle: (params: P, call: MethodCall) => unknown): MethodEntry {
  return {
    validate,
    async handle(params: never, call) {
      return reply(await handle(params as P, call));
    },
  };
}

/** Methods answered by the protocol layer itself. */
function localMethods(): Record<string, MethodEntry> {
  const v = localParamsValidators;
  return {
    health: local(v.health, (_p, { gateway }) => gateway.health()),
    status: local(v.status, (_p, { gateway }) => gateway.services.status()),
    'gateway.identity.get': local(v['gateway.identity.get'], (_p, { gateway }) => gateway.state.identity()),
    'system-presence': local(v['system-presence'], (_p, { gateway }) => gateway.presence()),
    'last-heartbeat': local(v['last-heartbeat'], (_p, { gateway }) => gateway.lastHeartbeat ?? null),
    'set-heartbeats': local<{ enabled: boolean }>(v['set-heartbeats'], ({ enabled }, { gateway }) => {
      gateway.state.setHeartbeatsEnabled(enabled);
      return { ok: true, enabled };
    }),
    'talk.config': local(protocol.validateTalkConfigParams, () => ({ config: { talk: {} } })),
    'voicewake.get': local(v['voicewake.get'], (_p, { gateway }) => ({
      triggers: gateway.state.voicewakeTriggers(),
    })),
    'voicewake.set': local<{ triggers: string[] }>(v['voicewake.set'], ({ triggers }, { gateway }) => {
      const saved = gateway.state.setVoicewakeTriggers(triggers);
      gateway.broadcast('voicewake.changed', { triggers: saved });
      return { triggers: saved };
    }),
    'node.event': local<protocol.NodeEventParams>(
      protocol.validateNodeEventParams,
      (params, { gateway, ctx }) => {
        const handled = gateway.emitNodeEvent(ctx.client, params);
        const result: protocol.NodeEventResult = { ok: true, event: params.event, handled };
        if (!handled) result.reason = 'no handler for this node event on Switchyard';
        return result;
      },
    ),
    'node.pending.pull': local<protocol.NodePendingDrainParams>(
      protocol.validateNodePendingDrainParams,
      (params, { gateway, ctx }) => gateway.nodes.pull(gateway.nodeIdOf(ctx.client), params.maxItems ?? 10),
    ),
    'node.pending.ack': local<protocol.NodePendingAckParams>(
      protocol.validateNodePendingAckParams,
      (params, { gateway, ctx }) => gateway.nodes.ack(gateway.nodeIdOf(ctx.client), params.ids),
    ),
    'node.invoke.result': local<protocol.NodeInvokeResultParams>(
      protocol.validateNodeInvokeResultParams,
      (params, { gateway, ctx }) => {
        const payload = nodePayload(params);
        const outcome = { ok: params.ok, payload, ...(params.error ? { error: params.error } : {}) };
        const settled = gateway.nodes.settleInvoke(params.id, gateway.nodeIdOf(ctx.client), outcome);
        return settled ? { ok: true } : { ok: true, ignored: true };
      },
    ),
  };
}

type ServiceKey = Exclude<keyof GatewayServices, 'health' | 'status'>;

/** Delegated methods: OpenClaw name → service member and params validator. */
export const DELEGATED_METHODS: Record<
  string,
  { service: ServiceKey; validate: ParamsValidator; idempotent?: boolean }
> = {
  'chat.send': { service: 'chatSend', validate: protocol.validateChatSendParams, idempotent: true },
  'chat.history': { service: 'chatHistory', validate: protocol.validateChatHistoryParams },
  'chat.abort': { service: 'chatAbort', validate: protocol.validateChatAbortParams },
  agent: { service: 'agentRun', validate: protocol.validateAgentParams, idempotent: true },
  'sessions.list': { service: 'sessionsList', validate: protocol.validateSessionsListParams },
  'sessions.preview': { service: 'sessionsPreview', validate: protocol.validateSessionsPreviewParams },
  'sessions.patch': { service: 'sessionsPatch', validate: protocol.validateSessionsPatchParams },
  'sessions.reset': { service: 'sessionsReset', validate: protocol.validateSessionsResetParams },
  'sessions.compact': { service: 'sessionsCompact', validate: protocol.validateSessionsCompactParams },
  'sessions.delete': { service: 'sessionsDelete', validate: protocol.validateSessionsDeleteParams },
  'agents.list': { service: 'agentsList', validate: protocol.validateAgentsListParams },
  'models.list': { service: 'modelsList', validate: protocol.validateModelsListParams },
  'channels.status': { service: 'channelsStatus', validate: protocol.validateChannelsStatusParams },
  'config.get': { service: 'configGet', validate: protocol.validateConfigGetParams },
  'cron.list': { service: 'cronList', validate: protocol.validateCronListParams },
  'cron.status': { service: 'cronStatus', validate: protocol.validateCronStatusParams },
  'cron.add': { service: 'cronAdd', validate: protocol.validateCronAddParams },
  'cron.update': { service: 'cronUpdate', validate: protocol.validateCronUpdateParams },
  'cron.remove': { service: 'cronRemove', validate: protocol.validateCronRemoveParams },
  'cron.run': { service: 'cronRun', validate: protocol.validateCronRunParams },
  'cron.runs': { service: 'cronRuns', validate: protocol.validateCronRunsParams },
  'exec.approval.get': { service: 'execApprovalGet', validate: protocol.validateExecApprovalGetParams },
  'exec.approval.resolve': {
    service: 'execApprovalResolve',
    validate: protocol.validateExecApprovalResolveParams,
  },
};

function delegated(services: GatewayServices, name: string): MethodEntry | undefined {
  const spec = DELEGATED_METHODS[name];
  const fn = spec && services[spec.service];
  if (!spec || !fn) return undefined;
  const call = fn.bind(services) as (params: unknown, ctx: RequestContext) => Promise<unknown>;
  if (name === 'agent') {
    return {
      validate: spec.validate,
      idempotent: true,
      async handle(params: never, { ctx }) {
        const run = (await call(params, ctx)) as Awaited<
          ReturnType<NonNullable<GatewayServices['agentRun']>>
        >;
        return { payload: run.accepted, final: run.final };
      },
    };
  }
  if (name === 'chat.send') {
    return {
      validate: spec.validate,
      idempotent: true,
      async handle(params: never, { ctx }) {
        return reply(await call(params, ctx));
      },
      replay(cached, gateway) {
        const first = cached.payload as { runId: string };
        return reply({ runId: first.runId, status: gateway.isRunFinished(first.runId) ? 'ok' : 'in_flight' });
      },
    };
  }
  return {
    validate: spec.validate,
    idempotent: spec.idempotent ?? false,
    async handle(params: never, { ctx }) {
      return reply(await call(params, ctx));
    },
  };
}

export function buildMethodTable(services: GatewayServices): Map<string, MethodEntry> {
  const table = new Map<string, MethodEntry>(Object.entries(localMethods()));
  for (const name of Object.keys(DELEGATED_METHODS)) {
    const entry = delegated(services, name);
    if (entry) table.set(name, entry);
  }
  return table;
}
