// `switchyard outbox list [--uncertain]`: the gateway's record of reply chunks (gateway/store/outbox.ts),
// read from its SQLite beside a running gateway (WAL). `--uncertain` lists the chunks whose send had
// an unknown outcome: left unsent (onUncertain: skip) or sent again (resend, notice).
import type { Command } from 'commander';
import type { Database } from '../../gateway/store/db.js';
import { Outbox, type OutboxRow } from '../../gateway/store/outbox.js';
import { table } from '../output.js';

export interface OutboxCommandsContext {
  openDatabase: () => Database;
  print?: (line: string) => void;
}

export function registerOutboxCommands(program: Command, ctx: OutboxCommandsContext): void {
  const print = ctx.print ?? ((line: string) => console.log(line));
  const outbox = program.command('outbox').description("the gateway's record of every reply chunk it sent");
  outbox
    .command('list')
    .description('list reply chunks, newest first')
    .option(
      '--uncertain',
      'only chunks whose send had an unknown outcome (unsent, or sent again by onUncertain)',
    )
    .option('--limit <n>', 'at most this many rows', '50')
    .option('--json', 'print JSON')
    .action((opts: { uncertain?: boolean; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new Error(`--limit must be a whole number ≥ 1, got '${opts.limit}'`);
      const db = ctx.openDatabase();
      let rows: OutboxRow[];
      try {
        const store = new Outbox(db, { runId: 'cli' });
        rows = opts.uncertain ? store.uncertain(limit) : store.recent(limit);
      } finally {
        db.close();
      }
      if (opts.json) return print(JSON.stringify(rows, null, 2));
      if (rows.length === 0) {
        return print(
          opts.uncertain
            ? 'No uncertain sends: every reply chunk has a known outcome.'
            : 'The outbox is empty.',
        );
      }
      print(
        table(
          ['updated', 'state', 'channel', 'chat', 'key', 'what happened'],
          rows.map((r) => [
            new Date(r.updatedAt).toISOString(),
            r.recovered ? `${r.state} (${r.recovered.split(':')[0]})` : r.state,
            `${r.channel}/${r.accountId}`,
            r.chatId,
            r.key,
            r.recovered ?? r.error ?? '',
          ]),
        ),
      );
    });
}
