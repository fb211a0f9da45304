import { describe, expect, it } from 'vitest';
import { type AccessStore, decideAccess } from '../../channels/access.js';
import type { ChannelPolicy } from '../../channels/routing.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { groupMessage, manualClock, message, tempDb } from './fixtures.js';

function store() {
  const clock = manualClock();
  return { clock, pairing: new PairingStore(tempDb().db, { now: clock.now }) };
}

/** A store that fails the test if a decision touches it. */
const untouchable: AccessStore = {
  isAllowed: () => {
    throw new Error('store consulted');
  },
  requestPairing: () => {
    throw new Error('store consulted');
  },
};

describe('direct messages', () => {
  it('by default (dmPolicy pairing) answers a stranger with an 8-character code and starts nothing', () => {
    const { pairing, clock } = store();
    const decision = decideAccess(undefined, message(), pairing);
    expect(decision).toEqual({
      kind: 'pairing-challenge',
      code: expect.stringMatching(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/),
      expiresAt: clock.now() + 60 * 60 * 1000,
      isNew: true,
    });
  });

  it('re-issues the same code while it is pending', () => {
    const { pairing, clock } = store();
    const first = decideAccess(undefined, message(), pairing);
    clock.advance(30 * 60 * 1000);
    const second = decideAccess(undefined, message({ text: 'hello?' }), pairing);
    expect(second).toEqual({ ...first, isNew: false });
  });

  it('answers the next message once the owner approved the code', () => {
    const { pairing } = store();
    const challenge = decideAccess(undefined, message(), pairing);
    if (challenge.kind !== 'pairing-challenge') throw new Error(`unexpected ${challenge.kind}`);
    pairing.approve('telegram', challenge.code);
    expect(decideAccess(undefined, message(), pairing)).toEqual({ kind: 'accept' });
  });

  it('lets senders listed in allowFrom through without pairing', () => {
    const { pairing } = store();
    expect(decideAccess({ allowFrom: ['1001'] }, message(), pairing)).toEqual({ kind: 'accept' });
    expect(pairing.listPending()).toEqual([]);
  });

  it('under dmPolicy allowlist rejects strangers without issuing a code', () => {
    const { pairing } = store();
    const policy: ChannelPolicy = { dmPolicy: 'allowlist', allowFrom: ['2002'] };
    expect(decideAccess(policy, message(), pairing)).toEqual({
      kind: 'reject',
      reason: 'sender-not-allowlisted',
    });
    expect(pairing.listPending()).toEqual([]);
  });

  it('under dmPolicy allowlist also accepts senders added with `switchyard allowlist add`', () => {
    const { pairing } = store();
    pairing.allow('telegram', '1001');
    expect(decideAccess({ dmPolicy: 'allowlist' }, message(), pairing)).toEqual({ kind: 'accept' });
  });

  it('under dmPolicy open accepts anyone', () => {
    expect(decideAccess({ dmPolicy: 'open' }, message(), untouchable)).toEqual({ kind: 'accept' });
  });

  it('under dmPolicy disabled rejects everyone, even allowlisted senders', () => {
    expect(decideAccess({ dmPolicy: 'disabled', allowFrom: ['1001'] }, message(), untouchable)).toEqual({
      kind: 'reject',
      reason: 'dm-disabled',
    });
  });

  it('stops issuing codes when three strangers are already waiting on the channel', () => {
    const { pairing } = store();
    for (const id of ['1', '2', '3']) {
      expect(decideAccess(undefined, message({ sender: { id } }), pairing).kind).toBe('pairing-challenge');
    }
    expect(decideAccess(undefined, message({ sender: { id: '4' } }), pairing)).toEqual({
      kind: 'reject',
      reason: 'pairing-pending-limit',
    });
    expect(decideAccess(undefined, message({ sender: { id: '4' }, channel: 'whatsapp' }), pairing).kind).toBe(
      'pairing-challenge',
    );
  });
});

describe('group messages', () => {
  const family: ChannelPolicy = { groups: { '-100777': {} } };

  it('keeps an unmentioned group message as context, not answered', () => {
    expect(decideAccess(family, groupMessage({ wasMentioned: false }), untouchable)).toEqual({
      kind: 'context-only',
      reason: 'not-mentioned',
    });
  });

  it('answers a group message that mentions the assistant', () => {
    expect(decideAccess(family, groupMessage({ wasMentioned: true }), untouchable)).toEqual({
      kind: 'accept',
    });
  });

  it('allows every room of a server or workspace listed by its id (Discord guild, Slack team)', () => {
    const inGuild = (id: string) =>
      groupMessage({ wasMentioned: true, chat: { id, kind: 'group', parentId: 'G7' } });
    expect(decideAccess({ groups: { G7: {} } }, inGuild('C1'), untouchable)).toEqual({ kind: 'accept' });
    expect(decideAccess({ groups: { G8: {} } }, inGuild('C1'), untouchable)).toMatchObject({
      kind: 'reject',
    });
    // The room's own settings win over the server's.
    const quiet = { groups: { G7: { requireMention: false }, C1: { requireMention: true } } };
    expect(decideAccess(quiet, { ...inGuild('C1'), wasMentioned: false }, untouchable)).toMatchObject({
      kind: 'context-only',
    });
    expect(decideAccess(quiet, { ...inGuild('C2'), wasMentioned: false }, untouchable)).toEqual({
      kind: 'accept',
    });
  });

  it('treats a thread like its group', () => {
    const msg = groupMessage({ chat: { kind: 'thread', threadId: '5' } });
    expect(decideAccess(family, msg, untouchable)).toEqual({ kind: 'context-only', reason: 'not-mentioned' });
  });

  it('answers every message when mention gating is off, for the channel or for one group', () => {
    const msg = groupMessage({ wasMentioned: false });
    expect(decideAccess({ ...family, requireMention: false }, msg, untouchable)).toEqual({ kind: 'accept' });
    expect(decideAccess({ groups: { '-100777': { requireMention: false } } }, msg, untouchable)).toEqual({
      kind: 'accept',
    });
  });

  it('by default (groupPolicy allowlist) rejects groups that are not listed', () => {
    expect(decideAccess(undefined, groupMessage({ wasMentioned: true }), untouchable)).toEqual({
      kind: 'reject',
      reason: 'group-not-allowlisted',
    });
  });

  it('allows every group with the "*" key or groupPolicy open', () => {
    const msg = groupMessage({ wasMentioned: true });
    expect(decideAccess({ groups: { '*': {} } }, msg, untouchable)).toEqual({ kind: 'accept' });
    expect(decideAccess({ groupPolicy: 'open' }, msg, untouchable)).toEqual({ kind: 'accept' });
  });

  it('under groupPolicy disabled rejects group messages, even mentions', () => {
    expect(
      decideAccess({ ...family, groupPolicy: 'disabled' }, groupMessage({ wasMentioned: true }), untouchable),
    ).toEqual({
      kind: 'reject',
      reason: 'groups-disabled',
    });
  });

  it('with groupAllowFrom only listed senders trigger answers; others are context', () => {
    const policy: ChannelPolicy = { ...family, groupAllowFrom: ['1001'] };
    expect(decideAccess(policy, groupMessage({ wasMentioned: true }), untouchable)).toEqual({
      kind: 'accept',
    });
    expect(
      decideAccess(policy, groupMessage({ wasMentioned: true, sender: { id: '1002' } }), untouchable),
    ).toEqual({
      kind: 'context-only',
      reason: 'sender-not-in-group-allowlist',
    });
  });
});
