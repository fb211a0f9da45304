// Who may start a turn, decided at the door before any work is started. Pure decisions; the only
// state (approved senders, pending pairing codes) sits behind AccessStore, kept by the gateway.
import { accountSettings } from './accounts.js';
import type { InboundMessage } from './envelope.js';
import type { ChannelPolicy, RoutingConfig } from './routing.js';
import { DEFAULT_ACCOUNT_ID } from './session-key.js';

export type AccessDecision =
  | { kind: 'accept' }
  /** Kept as conversation context, not answered. */
  | { kind: 'context-only'; reason: ContextOnlyReason }
  /** A stranger's DM under dmPolicy pairing: send them the code, start nothing. */
  | { kind: 'pairing-challenge'; code: string; expiresAt: number; isNew: boolean }
  | { kind: 'reject'; reason: RejectReason };

export type ContextOnlyReason = 'not-mentioned' | 'sender-not-in-group-allowlist';

export type RejectReason =
  | 'dm-disabled'
  | 'sender-not-allowlisted'
  | 'pairing-pending-limit'
  | 'groups-disabled'
  | 'group-not-allowlisted';

export type PairingIssue =
  | { kind: 'issued'; code: string; expiresAt: number; isNew: boolean }
  /** Too many strangers are already waiting on this channel; the sender gets nothing. */
  | { kind: 'pending-limit'; pending: number };

export interface PairingRequestInput {
  channel: string;
  accountId: string;
  senderId: string;
  senderName?: string;
}

/** What access decisions need from storage; gateway/store/pairing.ts keeps it in SQLite. */
export interface AccessStore {
  /** Approved through pairing or `switchyard allowlist add`. */
  isAllowed(channel: string, senderId: string): boolean;
  /** The sender's pending code, or a new one. */
  requestPairing(request: PairingRequestInput): PairingIssue;
}

export interface ResolvedChannelPolicy {
  dmPolicy: NonNullable<ChannelPolicy['dmPolicy']>;
  allowFrom: string[];
  groupPolicy: NonNullable<ChannelPolicy['groupPolicy']>;
  groups: NonNullable<ChannelPolicy['groups']>;
  groupAllowFrom: string[] | undefined;
  requireMention: boolean;
}

/** Defaults as in OpenClaw: DMs need pairing, groups need allowlisting, groups need a mention. */
export function resolveChannelPolicy(policy: ChannelPolicy | undefined): ResolvedChannelPolicy {
  return {
    dmPolicy: policy?.dmPolicy ?? 'pairing',
    allowFrom: policy?.allowFrom ?? [],
    groupPolicy: policy?.groupPolicy ?? 'allowlist',
    groups: policy?.groups ?? {},
    groupAllowFrom: policy?.groupAllowFrom,
    requireMention: policy?.requireMention ?? true,
  };
}

/** The policy of one account of a channel: its own keys over the channel's shared ones (channels/accounts.ts). */
export function channelPolicyFor(
  config: RoutingConfig,
  channel: string,
  accountId: string = DEFAULT_ACCOUNT_ID,
): ResolvedChannelPolicy {
  return resolveChannelPolicy(
    accountSettings(channel, config.channels?.[channel], accountId) as ChannelPolicy,
  );
}

/** What a stranger is told under dmPolicy pairing: their code and the command the owner runs. */
export function pairingPrompt(channel: string, code: string, expiresAt: number, now = Date.now()): string {
  const minutes = Math.max(1, Math.round((expiresAt - now) / 60_000));
  return (
    `I don't know you yet, so I can't answer. Your pairing code is ${code} (valid for ${minutes} min).\n` +
    `To be let in, ask the owner to run: switchyard pairing approve ${channel} ${code}`
  );
}

/** Sender ids are compared trimmed and case-insensitively, in config lists and in the store alike. */
export function normalizeSenderId(senderId: string): string {
  return senderId.trim().toLowerCase();
}

function listAllows(list: readonly string[], senderId: string): boolean {
  const id = normalizeSenderId(senderId);
  return list.some((entry) => entry.trim() === '*' || normalizeSenderId(entry) === id);
}

export function decideAccess(
  policy: ChannelPolicy | ResolvedChannelPolicy | undefined,
  msg: InboundMessage,
  store: AccessStore,
): AccessDecision {
  const p = resolveChannelPolicy(policy);
  return msg.chat.kind === 'direct' ? decideDirect(p, msg, store) : decideGroup(p, msg);
}

function decideDirect(p: ResolvedChannelPolicy, msg: InboundMessage, store: AccessStore): AccessDecision {
  if (p.dmPolicy === 'disabled') return { kind: 'reject', reason: 'dm-disabled' };
  if (p.dmPolicy === 'open') return { kind: 'accept' };
  if (listAllows(p.allowFrom, msg.sender.id) || store.isAllowed(msg.channel, msg.sender.id)) {
    return { kind: 'accept' };
  }
  if (p.dmPolicy === 'allowlist') return { kind: 'reject', reason: 'sender-not-allowlisted' };
  const issue = store.requestPairing({
    channel: msg.channel,
    accountId: msg.accountId,
    senderId: msg.sender.id,
    senderName: msg.sender.name ?? msg.sender.username,
  });
  if (issue.kind === 'pending-limit') return { kind: 'reject', reason: 'pairing-pending-limit' };
  return { kind: 'pairing-challenge', code: issue.code, expiresAt: issue.expiresAt, isNew: issue.isNew };
}

function decideGroup(p: ResolvedChannelPolicy, msg: InboundMessage): AccessDecision {
  if (p.groupPolicy === 'disabled') return { kind: 'reject', reason: 'groups-disabled' };
  const settings = findGroupSettings(p.groups, msg.chat.id, msg.chat.parentId);
  if (p.groupPolicy === 'allowlist' && !settings.listed) {
    return { kind: 'reject', reason: 'group-not-allowlisted' };
  }
  if (p.groupAllowFrom && !listAllows(p.groupAllowFrom, msg.sender.id)) {
    return { kind: 'context-only', reason: 'sender-not-in-group-allowlist' };
  }
  const requireMention = settings.requireMention ?? p.requireMention;
  if (requireMention && !msg.wasMentioned) return { kind: 'context-only', reason: 'not-mentioned' };
  return { kind: 'accept' };
}

/** Settings of the room itself, else of the space that contains it (a Discord server, a Slack team), else '*'. */
function findGroupSettings(
  groups: ResolvedChannelPolicy['groups'],
  groupId: string,
  parentId: string | undefined,
): { listed: boolean; requireMention?: boolean } {
  const lookup = (id: string | undefined) => {
    const lowered = id?.trim().toLowerCase();
    if (!lowered) return undefined;
    const key = Object.keys(groups).find((k) => k.trim().toLowerCase() === lowered);
    return key === undefined ? undefined : groups[key];
  };
  const exact = lookup(groupId);
  const parent = lookup(parentId);
  const wildcard = groups['*'];
  return {
    listed: exact !== undefined || parent !== undefined || wildcard !== undefined,
    requireMention: exact?.requireMention ?? parent?.requireMention ?? wildcard?.requireMention,
  };
}
