// Which agent and pipeline answer a message, and which session it belongs to.
// Bindings follow OpenClaw's precedence: peer > group > account > channel > default agent;
// within one tier the first binding listed wins.
import routingSchema from '../schemas/routing.schema.json' with { type: 'json' };
import type { InboundMessage } from './envelope.js';
import { compileSchema, type SchemaIssue, type Validated } from './schema-validation.js';
import {
  buildSessionKey,
  DEFAULT_AGENT_ID,
  type DmScope,
  normalizeAccountId,
  normalizeAgentId,
  normalizeToken,
} from './session-key.js';

export { routingSchema };

export const DEFAULT_PIPELINE = 'default';

export interface AgentConfig {
  id: string;
  name?: string;
  workspace?: string;
  /** Answers when no binding matches; at most one agent sets it (else the first agent). */
  default?: boolean;
  /** Pipeline for this agent's turns unless a binding names another; 'default' otherwise. */
  pipeline?: string;
  /** Media settings of this agent (speech-to-text providers, image describer); see docs/media.md. */
  media?: { transcription?: string[]; vision?: string };
}

export interface BindingMatch {
  channel: string;
  /** An account of the channel, or '*' (the same as omitting it) for any. */
  accountId?: string;
  /** A sender id: matches that sender's direct messages. */
  peer?: string;
  /** A group id: matches messages in that group and in its threads. */
  group?: string;
}

export interface Binding {
  match: BindingMatch;
  agentId: string;
  pipeline?: string;
}

export interface SessionConfig {
  dmScope?: DmScope;
  mainKey?: string;
}

export type DmPolicy = 'pairing' | 'allowlist' | 'open' | 'disabled';
export type GroupPolicy = 'open' | 'allowlist' | 'disabled';

export interface ChannelPolicy {
  dmPolicy?: DmPolicy;
  allowFrom?: string[];
  groupPolicy?: GroupPolicy;
  groups?: Record<string, { requireMention?: boolean }>;
  groupAllowFrom?: string[];
  requireMention?: boolean;
}

/** The routing part of switchyard.yaml (schemas/routing.schema.json). */
export interface RoutingConfig {
  agents?: AgentConfig[];
  bindings?: Binding[];
  session?: SessionConfig;
  channels?: Record<string, ChannelPolicy>;
}

export type BindingTier = 'peer' | 'group' | 'account' | 'channel';

export interface Route {
  agentId: string;
  pipeline: string;
  sessionKey: string;
  /** The binding that decided, by its index in `bindings`; null when the default agent answered. */
  bindingMatched: { index: number; tier: BindingTier } | null;
}

const checkSchema = compileSchema<RoutingConfig>(routingSchema);

/** Schema check plus what a schema cannot say: unique agent ids, one default, bindings to known agents. */
export function validateRoutingConfig(value: unknown): Validated<RoutingConfig> {
  const checked = checkSchema(value);
  if (!checked.ok) return checked;
  const config = checked.value;
  const errors: SchemaIssue[] = [];
  const agents = config.agents ?? [];
  const known = new Map<string, number>();
  agents.forEach((agent, i) => {
    const id = normalizeAgentId(agent.id);
    const earlier = known.get(id);
    if (earlier !== undefined) {
      errors.push({
        path: `agents[${i}].id`,
        message: `"${agent.id}" is already the id of agents[${earlier}] (ids ignore case)`,
      });
    } else known.set(id, i);
  });
  const defaults = agents.flatMap((agent, i) => (agent.default ? [i] : []));
  if (defaults.length > 1) {
    errors.push({
      path: `agents[${defaults[1]}].default`,
      message: `only one agent can be the default; agents[${defaults[0]}] already is`,
    });
  }
  if (agents.length > 0) {
    (config.bindings ?? []).forEach((binding, i) => {
      if (!known.has(normalizeAgentId(binding.agentId))) {
        errors.push({
          path: `bindings[${i}].agentId`,
          message: `names no agent; expected one of ${[...known.keys()].map((id) => `"${id}"`).join(', ')}`,
        });
      }
    });
  }
  return errors.length > 0 ? { ok: false, errors } : checked;
}

export function defaultAgentId(config: RoutingConfig): string {
  const agents = config.agents ?? [];
  const chosen = agents.find((agent) => agent.default) ?? agents[0];
  return normalizeAgentId(chosen?.id ?? DEFAULT_AGENT_ID);
}

const TIERS: readonly BindingTier[] = ['peer', 'group', 'account', 'channel'];

function tierOf(match: BindingMatch): BindingTier {
  if (match.peer !== undefined) return 'peer';
  if (match.group !== undefined) return 'group';
  if (match.accountId !== undefined && match.accountId.trim() !== '*') return 'account';
  return 'channel';
}

function matches(match: BindingMatch, msg: InboundMessage): boolean {
  if (normalizeToken(match.channel) !== normalizeToken(msg.channel)) return false;
  const account = match.accountId?.trim();
  if (account && account !== '*' && normalizeAccountId(account) !== normalizeAccountId(msg.accountId)) {
    return false;
  }
  if (match.peer !== undefined) {
    return msg.chat.kind === 'direct' && normalizeToken(match.peer) === normalizeToken(msg.sender.id);
  }
  if (match.group !== undefined) {
    return msg.chat.kind !== 'direct' && normalizeToken(match.group) === normalizeToken(msg.chat.id);
  }
  return true;
}

/** The agent, pipeline and session of a message. Expects a config that passed validateRoutingConfig. */
export function resolveRoute(config: RoutingConfig, msg: InboundMessage): Route {
  const bindings = config.bindings ?? [];
  let chosen: { binding: Binding; index: number; tier: BindingTier } | undefined;
  for (const tier of TIERS) {
    const index = bindings.findIndex((b) => tierOf(b.match) === tier && matches(b.match, msg));
    if (index >= 0) {
      chosen = { binding: bindings[index]!, index, tier };
      break;
    }
  }
  const agentId = chosen ? normalizeAgentId(chosen.binding.agentId) : defaultAgentId(config);
  const agent = config.agents?.find((a) => normalizeAgentId(a.id) === agentId);
  const sessionKey = buildSessionKey({
    agentId,
    channel: msg.channel,
    accountId: msg.accountId,
    peer:
      msg.chat.kind === 'direct'
        ? { kind: 'direct', id: msg.sender.id, threadId: msg.chat.threadId }
        : { kind: msg.chat.roomType ?? 'group', id: msg.chat.id, threadId: msg.chat.threadId },
    dmScope: config.session?.dmScope,
    mainKey: config.session?.mainKey,
  });
  return {
    agentId,
    pipeline: chosen?.binding.pipeline ?? agent?.pipeline ?? DEFAULT_PIPELINE,
    sessionKey,
    bindingMatched: chosen ? { index: chosen.index, tier: chosen.tier } : null,
  };
}
