// Pairing codes and approved senders, in the gateway's SQLite file. Conventions from OpenClaw:
// 8 characters from an alphabet without 0/O/1/I, valid for 1 hour, the same code re-issued while
// pending, at most 3 strangers waiting per channel; approving a code allowlists its sender.
import { randomInt } from 'node:crypto';
import {
  type AccessStore,
  normalizeSenderId,
  type PairingIssue,
  type PairingRequestInput,
} from '../../channels/access.js';
import { normalizeAccountId, normalizeToken } from '../../channels/session-key.js';
import type { Database } from './db.js';

export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 8;
export const PAIRING_TTL_MS = 60 * 60 * 1000;
export const PAIRING_MAX_PENDING_PER_CHANNEL = 3;
/** Expired requests stay this long so `approve` can say "expired" instead of "unknown". */
const EXPIRED_KEPT_MS = 24 * 60 * 60 * 1000;

export const PAIRING_TABLES = `
CREATE TABLE pairing_requests (
  channel     TEXT    NOT NULL,
  code        TEXT    NOT NULL,
  sender_id   TEXT    NOT NULL,
  sender_name TEXT,
  account_id  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL, -- ms since epoch
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (channel, code),
  UNIQUE (channel, sender_id)
) STRICT;
CREATE TABLE allowed_senders (
  channel     TEXT    NOT NULL,
  sender_id   TEXT    NOT NULL,
  sender_name TEXT,
  source      TEXT    NOT NULL CHECK (source IN ('pairing', 'cli')),
  added_at    INTEGER NOT NULL,
  PRIMARY KEY (channel, sender_id)
) STRICT;
`;

export interface PendingPairing {
  channel: string;
  code: string;
  senderId: string;
  senderName?: string;
  accountId: string;
  createdAt: number;
  expiresAt: number;
}

export interface AllowedSender {
  channel: string;
  senderId: string;
  senderName?: string;
  source: 'pairing' | 'cli';
  addedAt: number;
}

export type PairingErrorCode = 'invalid-code' | 'unknown-code' | 'expired-code' | 'wrong-channel';

export class PairingError extends Error {
  override readonly name = 'PairingError';
  constructor(
    readonly code: PairingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface PairingStoreOptions {
  now?: () => number;
  ttlMs?: number;
  maxPendingPerChannel?: number;
}

interface RequestRow {
  channel: string;
  code: string;
  sender_id: string;
  sender_name: string | null;
  account_id: string;
  created_at: number;
  expires_at: number;
}

interface AllowedRow {
  channel: string;
  sender_id: string;
  sender_name: string | null;
  source: 'pairing' | 'cli';
  added_at: number;
}

export class PairingStore implements AccessStore {
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly db: Database,
    options: PairingStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? PAIRING_TTL_MS;
    this.maxPending = options.maxPendingPerChannel ?? PAIRING_MAX_PENDING_PER_CHANNEL;
  }

  isAllowed(channel: string, senderId: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM allowed_senders WHERE channel = ? AND sender_id = ?')
        .get(normalizeToken(channel), normalizeSenderId(senderId)) !== undefined
    );
  }

  requestPairing(request: PairingRequestInput): PairingIssue {
    const channel = normalizeToken(request.channel);
    const senderId = normalizeSenderId(request.senderId);
    const now = this.now();
    return this.db.transaction((): PairingIssue => {
      this.pruneExpired(now);
      const existing = this.db
        .prepare<[string, string], RequestRow>(
          'SELECT * FROM pairing_requests WHERE channel = ? AND sender_id = ?',
        )
        .get(channel, senderId);
      if (existing && existing.expires_at > now) {
        return { kind: 'issued', code: existing.code, expiresAt: existing.expires_at, isNew: false };
      }
      const pending = this.db
        .prepare<[string, number], { n: number }>(
          'SELECT count(*) AS n FROM pairing_requests WHERE channel = ? AND expires_at > ?',
        )
        .get(channel, now)!.n;
      if (pending >= this.maxPending) return { kind: 'pending-limit', pending };
      if (existing) {
        this.db
          .prepare('DELETE FROM pairing_requests WHERE channel = ? AND sender_id = ?')
          .run(channel, senderId);
      }
      const code = this.unusedCode(channel);
      const expiresAt = now + this.ttlMs;
      this.db
        .prepare(
          `INSERT INTO pairing_requests (channel, code, sender_id, sender_name, account_id, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          channel,
          code,
          senderId,
          request.senderName ?? null,
          normalizeAccountId(request.accountId),
          now,
          expiresAt,
        );
      return { kind: 'issued', code, expiresAt, isNew: true };
    })();
  }

  /** Requests still waiting for the owner (expired ones are left out). */
  listPending(channel?: string): PendingPairing[] {
    const now = this.now();
    const rows =
      channel === undefined
        ? this.db
            .prepare<[number], RequestRow>(
              'SELECT * FROM pairing_requests WHERE expires_at > ? ORDER BY channel, created_at',
            )
            .all(now)
        : this.db
            .prepare<[string, number], RequestRow>(
              'SELECT * FROM pairing_requests WHERE channel = ? AND expires_at > ? ORDER BY created_at',
            )
            .all(normalizeToken(channel), now);
    return rows.map(toPending);
  }

  /** Allowlist the sender behind `code`; their next message is answered. */
  approve(channel: string, code: string): AllowedSender {
    return this.db.transaction(() => {
      const request = this.takePending(channel, code);
      const sender: AllowedSender = {
        channel: request.channel,
        senderId: request.senderId,
        source: 'pairing',
        addedAt: this.now(),
        ...(request.senderName === undefined ? {} : { senderName: request.senderName }),
      };
      this.insertAllowed(sender);
      return sender;
    })();
  }

  /** Drop the request behind `code`. The sender is not blocked: a later DM earns a fresh code. */
  deny(channel: string, code: string): PendingPairing {
    return this.db.transaction(() => this.takePending(channel, code))();
  }

  listAllowed(channel?: string): AllowedSender[] {
    const rows =
      channel === undefined
        ? this.db.prepare<[], AllowedRow>('SELECT * FROM allowed_senders ORDER BY channel, added_at').all()
        : this.db
            .prepare<[string], AllowedRow>(
              'SELECT * FROM allowed_senders WHERE channel = ? ORDER BY added_at',
            )
            .all(normalizeToken(channel));
    return rows.map(toAllowed);
  }

  /** Add a sender by hand; false when they were already allowed. */
  allow(channel: string, senderId: string, senderName?: string): boolean {
    return this.insertAllowed({
      channel: normalizeToken(channel),
      senderId: normalizeSenderId(senderId),
      source: 'cli',
      addedAt: this.now(),
      ...(senderName === undefined ? {} : { senderName }),
    });
  }

  /** Remove a sender; false when they were not on the list. */
  disallow(channel: string, senderId: string): boolean {
    const result = this.db
      .prepare('DELETE FROM allowed_senders WHERE channel = ? AND sender_id = ?')
      .run(normalizeToken(channel), normalizeSenderId(senderId));
    return result.changes > 0;
  }

  private insertAllowed(sender: AllowedSender): boolean {
    const result = this.db
      .prepare(
        `INSERT OR IGNORE INTO allowed_senders (channel, sender_id, sender_name, source, added_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(sender.channel, sender.senderId, sender.senderName ?? null, sender.source, sender.addedAt);
    return result.changes > 0;
  }

  private takePending(channelInput: string, codeInput: string): PendingPairing {
    const channel = normalizeToken(channelInput);
    const code = normalizePairingCode(codeInput);
    const now = this.now();
    const row = this.db
      .prepare<[string, string], RequestRow>('SELECT * FROM pairing_requests WHERE channel = ? AND code = ?')
      .get(channel, code);
    if (!row) {
      const elsewhere = this.db
        .prepare<[string, number], { channel: string }>(
          'SELECT channel FROM pairing_requests WHERE code = ? AND expires_at > ?',
        )
        .get(code, now);
      if (elsewhere) {
        throw new PairingError(
          'wrong-channel',
          `Pairing code ${code} belongs to channel "${elsewhere.channel}", not "${channel}". ` +
            `Run: switchyard pairing approve ${elsewhere.channel} ${code}`,
        );
      }
      throw new PairingError(
        'unknown-code',
        `No pairing request with code ${code} on channel "${channel}". ` +
          `Run \`switchyard pairing list ${channel}\` to see the codes waiting for approval.`,
      );
    }
    if (row.expires_at <= now) {
      throw new PairingError(
        'expired-code',
        `Pairing code ${code} on channel "${channel}" expired at ${new Date(row.expires_at).toISOString()} ` +
          `(codes are valid for ${Math.round(this.ttlMs / 60_000)} min). ` +
          'Ask the sender to message the assistant again: they will get a new code.',
      );
    }
    this.db.prepare('DELETE FROM pairing_requests WHERE channel = ? AND code = ?').run(channel, code);
    return toPending(row);
  }

  private unusedCode(channel: string): string {
    const taken = this.db.prepare('SELECT 1 FROM pairing_requests WHERE channel = ? AND code = ?');
    for (let attempt = 0; attempt < 100; attempt++) {
      const code = generatePairingCode();
      if (taken.get(channel, code) === undefined) return code;
    }
    throw new Error(`could not find an unused pairing code for channel "${channel}" in 100 attempts`);
  }

  private pruneExpired(now: number): void {
    this.db.prepare('DELETE FROM pairing_requests WHERE expires_at <= ?').run(now - EXPIRED_KEPT_MS);
  }
}

export function generatePairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) {
    code += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  }
  return code;
}

/** Codes are typed by people: ignore case, spaces and dashes; reject anything else early. */
export function normalizePairingCode(input: string): string {
  const code = input.replace(/[\s-]+/g, '').toUpperCase();
  const valid =
    code.length === PAIRING_CODE_LENGTH && [...code].every((c) => PAIRING_CODE_ALPHABET.includes(c));
  if (!valid) {
    throw new PairingError(
      'invalid-code',
      `"${input}" is not a pairing code: a code is ${PAIRING_CODE_LENGTH} characters from ` +
        `${PAIRING_CODE_ALPHABET} (no 0, O, 1 or I).`,
    );
  }
  return code;
}

function toPending(row: RequestRow): PendingPairing {
  return {
    channel: row.channel,
    code: row.code,
    senderId: row.sender_id,
    accountId: row.account_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ...(row.sender_name === null ? {} : { senderName: row.sender_name }),
  };
}

function toAllowed(row: AllowedRow): AllowedSender {
  return {
    channel: row.channel,
    senderId: row.sender_id,
    source: row.source,
    addedAt: row.added_at,
    ...(row.sender_name === null ? {} : { senderName: row.sender_name }),
  };
}
