// Accepted messages not yet handed to Temporal (channels/inbound-queue.ts): one row per message,
// written before the hand-off and deleted after it, so a gateway that dies in between hands the
// message on at its next start instead of losing it.
import type { InboundMessage } from '../../channels/envelope.js';
import type { InboundJournal } from '../../channels/inbound-queue.js';
import type { Database } from './db.js';

export const INBOUND_JOURNAL_TABLES = `
CREATE TABLE inbound_journal (
  channel      TEXT    NOT NULL,
  account_id   TEXT    NOT NULL,
  platform_id  TEXT    NOT NULL,
  message      TEXT    NOT NULL, -- the InboundMessage as JSON
  received_at  INTEGER NOT NULL, -- ms since epoch
  PRIMARY KEY (channel, account_id, platform_id)
) STRICT;
`;

export class SqliteInboundJournal implements InboundJournal {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  add(message: InboundMessage): void {
    this.db
      .prepare(
        `INSERT INTO inbound_journal (channel, account_id, platform_id, message, received_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(message.channel, message.accountId, message.platformId, JSON.stringify(message), this.now());
  }

  remove(message: InboundMessage): void {
    this.db
      .prepare('DELETE FROM inbound_journal WHERE channel = ? AND account_id = ? AND platform_id = ?')
      .run(message.channel, message.accountId, message.platformId);
  }

  pending(channel: string, accountId: string): InboundMessage[] {
    return this.db
      .prepare<[string, string], { message: string }>(
        'SELECT message FROM inbound_journal WHERE channel = ? AND account_id = ? ORDER BY received_at, rowid',
      )
      .all(channel, accountId)
      .map((row) => JSON.parse(row.message) as InboundMessage);
  }
}
