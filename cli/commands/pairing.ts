// `switchyard pairing …` and `switchyard allowlist …`: the owner's side of DM access.
// Works on the gateway's SQLite file directly, so it needs no running server.
import type { Command } from 'commander';
import type { Database } from '../../gateway/store/db.js';
import { PairingError, PairingStore } from '../../gateway/store/pairing.js';
import { printLine, table } from '../output.js';

export interface PairingCommandsContext {
  /** Opens the gateway database; each command closes what it opened. */
  openDb: () => Database;
}

export function registerPairingCommands(program: Command, ctx: PairingCommandsContext): void {
  const withStore = <T>(cmd: Command, fn: (store: PairingStore) => T): T => {
    const db = ctx.openDb();
    try {
      return fn(new PairingStore(db));
    } catch (error) {
      if (error instanceof PairingError) cmd.error(error.message, { code: `pairing.${error.code}` });
      throw error;
    } finally {
      db.close();
    }
  };
  const print = printLine;

  const pairing = program
    .command('pairing')
    .description('Approve or deny strangers who asked to talk to the assistant (dmPolicy: pairing)');

  pairing
    .command('list [channel]')
    .description('Show pairing codes waiting for approval')
    .option('--json', 'print JSON')
    .action((channel: string | undefined, options: { json?: boolean }, cmd: Command) => {
      const pending = withStore(cmd, (store) => store.listPending(channel));
      if (options.json) return print(cmd, JSON.stringify(pending, null, 2));
      if (pending.length === 0) {
        return print(cmd, `No pairing requests waiting${channel ? ` on ${channel}` : ''}.`);
      }
      const now = Date.now();
      print(
        cmd,
        table(
          ['CHANNEL', 'CODE', 'SENDER', 'NAME', 'EXPIRES'],
          pending.map((p) => [
            p.channel,
            p.code,
            p.senderId,
            p.senderName ?? '',
            inMinutes(p.expiresAt, now),
          ]),
        ),
      );
    });

  pairing
    .command('approve <channel> <code>')
    .description("Allow the code's sender; their next message is answered")
    .action((channel: string, code: string, _options: unknown, cmd: Command) => {
      const sender = withStore(cmd, (store) => store.approve(channel, code));
      print(
        cmd,
        `Approved ${describeSender(sender)} on ${sender.channel}. Their next message will be answered.`,
      );
    });

  pairing
    .command('deny <channel> <code>')
    .description('Drop a pairing request (a later message earns a new code)')
    .action((channel: string, code: string, _options: unknown, cmd: Command) => {
      const request = withStore(cmd, (store) => store.deny(channel, code));
      print(
        cmd,
        `Denied pairing code ${request.code} from ${describeSender(request)} on ${request.channel}.`,
      );
    });

  const allowlist = program
    .command('allowlist')
    .description('Senders allowed to message the assistant directly, per channel');

  allowlist
    .command('list [channel]')
    .description('Show allowed senders (approved pairings and manual entries)')
    .option('--json', 'print JSON')
    .action((channel: string | undefined, options: { json?: boolean }, cmd: Command) => {
      const allowed = withStore(cmd, (store) => store.listAllowed(channel));
      if (options.json) return print(cmd, JSON.stringify(allowed, null, 2));
      if (allowed.length === 0) return print(cmd, `No allowed senders${channel ? ` on ${channel}` : ''}.`);
      print(
        cmd,
        table(
          ['CHANNEL', 'SENDER', 'NAME', 'SOURCE', 'ADDED'],
          allowed.map((a) => [
            a.channel,
            a.senderId,
            a.senderName ?? '',
            a.source,
            new Date(a.addedAt).toISOString(),
          ]),
        ),
      );
    });

  allowlist
    .command('add <channel> <senderId>')
    .description('Allow a sender without pairing')
    .option('--name <name>', 'a name to remember them by')
    .action((channel: string, senderId: string, options: { name?: string }, cmd: Command) => {
      const added = withStore(cmd, (store) => store.allow(channel, senderId, options.name));
      print(
        cmd,
        added ? `Allowed ${senderId} on ${channel}.` : `${senderId} was already allowed on ${channel}.`,
      );
    });

  allowlist
    .command('remove <channel> <senderId>')
    .description('Stop allowing a sender (ids in the config file stay allowed)')
    .action((channel: string, senderId: string, _options: unknown, cmd: Command) => {
      const removed = withStore(cmd, (store) => store.disallow(channel, senderId));
      if (!removed) {
        cmd.error(
          `${senderId} is not on the ${channel} allowlist. Run \`switchyard allowlist list ${channel}\` to see it.`,
          { code: 'allowlist.not-found' },
        );
      }
      print(cmd, `Removed ${senderId} from the ${channel} allowlist.`);
    });
}

function describeSender(sender: { senderId: string; senderName?: string }): string {
  return sender.senderName ? `${sender.senderName} (${sender.senderId})` : sender.senderId;
}

function inMinutes(at: number, now: number): string {
  return `in ${Math.max(0, Math.ceil((at - now) / 60_000))} min`;
}
