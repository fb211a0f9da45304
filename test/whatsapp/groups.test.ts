// Mention gating in WhatsApp groups, on recorded and WhatsApp-shaped payloads through the
// connector's own handler (crabline takes group messages in, but cannot take the bot's replies
// or carry mentions in contextInfo), and the session each accepted message is routed to.
import { describe, expect, it } from 'vitest';
import type { ContextOnlyReason } from '../../channels/access.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { resolveRoute } from '../../channels/routing.js';
import { createWhatsAppConnector } from '../../channels/whatsapp/connector.js';
import { routeLibsignalConsole } from '../../channels/whatsapp/logging.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { recordingLog, tempDb } from '../telegram/helpers.js';
import * as fx from './fixtures.js';

function connectorWith(policy: Parameters<typeof createWhatsAppConnector>[0]['policy']) {
  const store = tempDb();
  const accepted: InboundMessage[] = [];
  const context: Array<{ id: string; reason: ContextOnlyReason }> = [];
  const logged = recordingLog();
  const connector = createWhatsAppConnector({
    authDir: `${process.env.TMPDIR ?? '/tmp'}/unused-wa-auth`,
    access: new PairingStore(store.db),
    policy,
    onInbound: async (msg) => void accepted.push(msg),
    onContext: async (msg, reason) => void context.push({ id: msg.messageId, reason }),
    log: logged.log,
  });
  return { connector, accepted, context, logged, cleanup: () => store.cleanup() };
}

describe('whatsapp groups', () => {
  it('answers a mention or a reply to the assistant; keeps the rest as context', async () => {
    const { connector, accepted, context, cleanup } = connectorWith({
      groupPolicy: 'allowlist',
      groups: { [fx.GROUP]: {} },
    });
    const all = [
      fx.groupPlain,
      fx.groupTextMention,
      fx.groupContextMention,
      fx.groupReplyToBot,
      fx.groupReplyToOther,
    ];
    await connector.handleUpsert(all, 'notify', { jid: fx.SELF, lid: fx.SELF_LID });
    await connector.idle();
    expect(accepted.map((m) => m.messageId)).toEqual(['INBOUND-GRP-1', 'GRP-CTX', 'GRP-REPLY']);
    expect(context).toEqual([
      { id: 'GRP-PLAIN', reason: 'not-mentioned' },
      { id: 'GRP-REPLY-OTHER', reason: 'not-mentioned' },
    ]);
    // Every message of the group is one conversation, whoever wrote it.
    expect(new Set(accepted.map((m) => resolveRoute({}, m).sessionKey))).toEqual(
      new Set([`agent:main:whatsapp:group:${fx.GROUP}`]),
    );
    cleanup();
  });

  it('ignores groups that are not allowlisted, and `append` batches (our own sends, history)', async () => {
    const { connector, accepted, context, cleanup } = connectorWith({ groupPolicy: 'allowlist' });
    await connector.handleUpsert([fx.groupTextMention], 'notify', { jid: fx.SELF });
    await connector.handleUpsert([fx.dm], 'append', { jid: fx.SELF });
    await connector.idle();
    expect(accepted).toEqual([]);
    expect(context).toEqual([]);
    cleanup();
  });

  it('answers every message of a group that does not require a mention', async () => {
    const { connector, accepted, cleanup } = connectorWith({
      groupPolicy: 'open',
      groups: { [fx.GROUP]: { requireMention: false } },
    });
    await connector.handleUpsert([fx.groupPlain], 'notify', { jid: fx.SELF });
    await connector.idle();
    expect(accepted.map((m) => m.messageId)).toEqual(['GRP-PLAIN']);
    cleanup();
  });
});

describe('libsignal console noise', () => {
  it('goes to the log at debug level as one line, without the session objects', () => {
    const { log, entries } = recordingLog();
    const printed: unknown[][] = [];
    const original = console.info;
    console.info = (...args: unknown[]) => void printed.push(args);
    try {
      const undo = routeLibsignalConsole(log);
      console.info('Closing session:', { privKey: Buffer.from('secret') });
      console.info('something else');
      undo();
      console.info('Closing session:', 'after undo');
    } finally {
      console.info = original;
    }
    expect(entries).toEqual([{ level: 'debug', msg: 'libsignal: Closing session', obj: {} }]);
    expect(printed).toEqual([['something else'], ['Closing session:', 'after undo']]);
  });
});
