import { describe, expect, it } from 'vitest';
import { openDb } from '../../gateway/store/db.js';
import { PAIRING_CODE_ALPHABET, PairingError, PairingStore } from '../../gateway/store/pairing.js';
import { manualClock, tempDb } from './fixtures.js';

const HOUR = 60 * 60 * 1000;
const alice = { channel: 'telegram', accountId: 'default', senderId: '1001', senderName: 'Alice' };

function setup() {
  const clock = manualClock();
  const { db, path } = tempDb();
  return { clock, path, store: new PairingStore(db, { now: clock.now }) };
}

function issue(store: PairingStore, request = alice) {
  const result = store.requestPairing(request);
  if (result.kind !== 'issued') throw new Error('expected a code');
  return result;
}

function pairingError(fn: () => unknown): PairingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PairingError) return error;
    throw error;
  }
  throw new Error('expected a PairingError');
}

describe('pairing store', () => {
  it('issues 8-character codes from an alphabet without 0, O, 1 or I', () => {
    const { store } = setup();
    const { code } = issue(store);
    expect(code).toHaveLength(8);
    expect([...code].every((c) => PAIRING_CODE_ALPHABET.includes(c))).toBe(true);
    expect(PAIRING_CODE_ALPHABET).not.toMatch(/[0O1I]/);
  });

  it('lists pending requests with sender and expiry', () => {
    const { store, clock } = setup();
    const { code } = issue(store);
    expect(store.listPending('telegram')).toEqual([
      {
        channel: 'telegram',
        code,
        senderId: '1001',
        senderName: 'Alice',
        accountId: 'default',
        createdAt: clock.now(),
        expiresAt: clock.now() + HOUR,
      },
    ]);
  });

  it('expires a code after one hour, and then issues a new one', () => {
    const { store, clock } = setup();
    const first = issue(store);
    clock.advance(HOUR - 1);
    expect(issue(store)).toEqual({ ...first, isNew: false });
    clock.advance(1);
    expect(store.listPending()).toEqual([]);
    const second = issue(store);
    expect(second.isNew).toBe(true);
    expect(second.code).not.toBe(first.code);
    expect(second.expiresAt).toBe(clock.now() + HOUR);
  });

  it('approving a code allowlists its sender and removes the request', () => {
    const { store, clock } = setup();
    const { code } = issue(store);
    expect(store.approve('telegram', code.toLowerCase())).toEqual({
      channel: 'telegram',
      senderId: '1001',
      senderName: 'Alice',
      source: 'pairing',
      addedAt: clock.now(),
    });
    expect(store.isAllowed('telegram', '1001')).toBe(true);
    expect(store.isAllowed('whatsapp', '1001')).toBe(false);
    expect(store.listPending()).toEqual([]);
  });

  it('denying a code drops the request without allowing the sender', () => {
    const { store } = setup();
    const { code } = issue(store);
    expect(store.deny('telegram', code)).toMatchObject({ code, senderId: '1001' });
    expect(store.isAllowed('telegram', '1001')).toBe(false);
    expect(store.listPending()).toEqual([]);
  });

  it('says so when a code is unknown', () => {
    const { store } = setup();
    const error = pairingError(() => store.approve('telegram', 'ABCDEFGH'));
    expect(error.code).toBe('unknown-code');
    expect(error.message).toBe(
      'No pairing request with code ABCDEFGH on channel "telegram". ' +
        'Run `switchyard pairing list telegram` to see the codes waiting for approval.',
    );
  });

  it('says so when a code has expired, and how to get a new one', () => {
    const { store, clock } = setup();
    const { code } = issue(store);
    clock.advance(HOUR);
    const error = pairingError(() => store.approve('telegram', code));
    expect(error.code).toBe('expired-code');
    expect(error.message).toMatch(
      /expired at 2026-01-01T13:00:00.000Z .*Ask the sender to message the assistant again/,
    );
    expect(store.isAllowed('telegram', '1001')).toBe(false);
  });

  it('points to the right channel when a code was given for the wrong one', () => {
    const { store } = setup();
    const { code } = issue(store);
    const error = pairingError(() => store.approve('whatsapp', code));
    expect(error.code).toBe('wrong-channel');
    expect(error.message).toContain(`Run: switchyard pairing approve telegram ${code}`);
  });

  it('rejects input that cannot be a code before looking it up', () => {
    const { store } = setup();
    const error = pairingError(() => store.deny('telegram', 'abc0'));
    expect(error.code).toBe('invalid-code');
    expect(error.message).toMatch(/is not a pairing code: a code is 8 characters/);
  });

  it('keeps an allowlist per channel: add, list, remove', () => {
    const { store } = setup();
    expect(store.allow('telegram', '2002', 'Bob')).toBe(true);
    expect(store.allow('telegram', '2002')).toBe(false);
    expect(store.listAllowed('telegram')).toMatchObject([
      { senderId: '2002', senderName: 'Bob', source: 'cli' },
    ]);
    expect(store.disallow('telegram', '2002')).toBe(true);
    expect(store.disallow('telegram', '2002')).toBe(false);
    expect(store.isAllowed('telegram', '2002')).toBe(false);
  });

  it('survives a restart: requests and approvals are in the SQLite file', () => {
    const { store, path, clock } = setup();
    const { code } = issue(store);
    store.allow('telegram', '2002');
    const db = openDb(path);
    try {
      const reopened = new PairingStore(db, { now: clock.now });
      expect(reopened.listPending().map((p) => p.code)).toEqual([code]);
      expect(reopened.isAllowed('telegram', '2002')).toBe(true);
    } finally {
      db.close();
    }
  });
});
