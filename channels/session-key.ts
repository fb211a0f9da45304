// Session keys in OpenClaw's grammar, so a session means the same conversation in both systems:
//   agent:<agentId>:<mainKey>                            every DM in one session (dmScope main)
//   agent:<agentId>:direct:<peer>                        per-peer
//   agent:<agentId>:<channel>:direct:<peer>              per-channel-peer
//   agent:<agentId>:<channel>:<account>:direct:<peer>    per-account-channel-peer
//   agent:<agentId>:<channel>:group:<groupId>            groups, whatever the dmScope
//   agent:<agentId>:<channel>:channel:<channelId>        Slack and Discord channels (OpenClaw's word)
//   <any of the above>:thread:<threadId>                 a thread or topic inside it
// Normalisation follows OpenClaw: ids trimmed and lowercased; agent and account ids reduced to
// [a-z0-9_-] (at most 64), falling back to 'main' and 'default'.

export type DmScope = 'main' | 'per-peer' | 'per-channel-peer' | 'per-account-channel-peer';

export const DEFAULT_AGENT_ID = 'main';
export const DEFAULT_MAIN_KEY = 'main';
export const DEFAULT_ACCOUNT_ID = 'default';

const SAFE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

function toSafeId(value: string | undefined, fallback: string): string {
  const trimmed = (value ?? '').trim();
  if (!trimmed) return fallback;
  if (SAFE_ID.test(trimmed)) return trimmed.toLowerCase();
  const collapsed = trimmed
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return collapsed || fallback;
}

export function normalizeAgentId(value: string | undefined): string {
  return toSafeId(value, DEFAULT_AGENT_ID);
}

export function normalizeAccountId(value: string | undefined): string {
  return toSafeId(value, DEFAULT_ACCOUNT_ID);
}

export function normalizeMainKey(value: string | undefined): string {
  return (value ?? '').trim().toLowerCase() || DEFAULT_MAIN_KEY;
}

/** Channels, peers, groups and threads: trimmed and lowercased, 'unknown' when empty. */
export function normalizeToken(value: string | undefined): string {
  return (value ?? '').trim().toLowerCase() || 'unknown';
}

export type SessionPeer =
  | { kind: 'direct'; id: string; threadId?: string }
  /** A room of many people: `channel` is what OpenClaw calls Slack and Discord channels. */
  | { kind: 'group' | 'channel'; id: string; threadId?: string };

export interface SessionKeyInput {
  agentId: string;
  channel: string;
  accountId?: string;
  peer: SessionPeer;
  dmScope?: DmScope;
  mainKey?: string;
}

export function buildSessionKey(input: SessionKeyInput): string {
  const agent = `agent:${normalizeAgentId(input.agentId)}`;
  const channel = normalizeToken(input.channel);
  const { peer } = input;
  let base: string;
  if (peer.kind === 'group' || peer.kind === 'channel') {
    base = `${agent}:${channel}:${peer.kind}:${normalizeToken(peer.id)}`;
  } else {
    const peerId = normalizeToken(peer.id);
    switch (input.dmScope ?? 'main') {
      case 'main':
        base = `${agent}:${normalizeMainKey(input.mainKey)}`;
        break;
      case 'per-peer':
        base = `${agent}:direct:${peerId}`;
        break;
      case 'per-channel-peer':
        base = `${agent}:${channel}:direct:${peerId}`;
        break;
      case 'per-account-channel-peer':
        base = `${agent}:${channel}:${normalizeAccountId(input.accountId)}:direct:${peerId}`;
        break;
    }
  }
  const threadId = peer.threadId?.trim();
  return threadId ? `${base}:thread:${threadId.toLowerCase()}` : base;
}

export function buildMainSessionKey(agentId: string, mainKey?: string): string {
  return `agent:${normalizeAgentId(agentId)}:${normalizeMainKey(mainKey)}`;
}

/** The Temporal workflow id of a session's workflow: re-deliveries signal the same run. */
export function sessionWorkflowId(sessionKey: string): string {
  return `session:${sessionKey}`;
}

export type ParsedSessionKey =
  | { scope: 'main'; agentId: string; mainKey: string; threadId?: string }
  | { scope: 'per-peer'; agentId: string; peerId: string; threadId?: string }
  | { scope: 'per-channel-peer'; agentId: string; channel: string; peerId: string; threadId?: string }
  | {
      scope: 'per-account-channel-peer';
      agentId: string;
      channel: string;
      accountId: string;
      peerId: string;
      threadId?: string;
    }
  | {
      scope: 'group';
      agentId: string;
      channel: string;
      groupId: string;
      /** Which word the key used: `group`, or `channel` (Slack and Discord channels). */
      room: 'group' | 'channel';
      threadId?: string;
    };

/**
 * Read an agent session key back into its parts; undefined for anything else (cron:, hook:, malformed).
 * Peer and group ids may contain ':'; a ':thread:' inside an id cannot be told from a thread suffix.
 */
export function parseSessionKey(key: string): ParsedSessionKey | undefined {
  const match = /^agent:([^:]+):(.+)$/.exec(key.trim());
  if (!match) return undefined;
  const agentId = match[1]!;
  let rest = match[2]!;
  let threadId: string | undefined;
  const threadAt = rest.lastIndexOf(':thread:');
  if (threadAt > 0) {
    threadId = rest.slice(threadAt + ':thread:'.length);
    rest = rest.slice(0, threadAt);
    if (!threadId) return undefined;
  }
  const thread = threadId === undefined ? {} : { threadId };
  const parts = rest.split(':');
  const tail = (from: number) => parts.slice(from).join(':');
  const [first, second, third] = parts;
  if (parts.length === 1 && first) return { scope: 'main', agentId, mainKey: first, ...thread };
  if (first === 'direct' && tail(1)) return { scope: 'per-peer', agentId, peerId: tail(1), ...thread };
  if (second === 'direct' && first && tail(2)) {
    return { scope: 'per-channel-peer', agentId, channel: first, peerId: tail(2), ...thread };
  }
  if ((second === 'group' || second === 'channel') && first && tail(2)) {
    return { scope: 'group', agentId, channel: first, groupId: tail(2), room: second, ...thread };
  }
  if (third === 'direct' && first && second && tail(3)) {
    return {
      scope: 'per-account-channel-peer',
      agentId,
      channel: first,
      accountId: second,
      peerId: tail(3),
      ...thread,
    };
  }
  return undefined;
}
