// The baileys-based connector against a local server speaking WhatsApp Web's protocol
// (crabline): inbound DMs, the access policy at the door, sends with ids derived from the
// outbox key, typing, reconnects and logged-out detection, reported through ConnectorHealth.
import { createHash } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import type { ChannelPolicy } from '../../channels/routing.js';
import { ConnectorStatusBoard } from '../../channels/status.js';
import { hasLinkedCreds } from '../../channels/whatsapp/auth-state.js';
import { createWhatsAppConnector, type WhatsAppConnector } from '../../channels/whatsapp/connector.js';
import { whatsappMessageId } from '../../channels/whatsapp/send.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { BlobStore } from '../../media/blob-store.js';
import { until } from '../helpers/until.js';
import { Inbox, recordingLog, tempDb } from '../telegram/helpers.js';
import { type FakeWhatsApp, linkedAuthDir, startFakeWhatsApp } from './helpers.js';

const OWNER = '15551234567@s.whatsapp.net';
const STRANGER = '15559876543@s.whatsapp.net';
const policy: ChannelPolicy = { dmPolicy: 'pairing', allowFrom: ['+15551234567'] };

describe('whatsapp connector against a local WhatsApp Web server', () => {
  let wa: FakeWhatsApp;
  let store: ReturnType<typeof tempDb>;
  let connector: WhatsAppConnector;
  let inbound: Inbox<InboundMessage>;
  let board: ConnectorStatusBoard;
  let authDir: string;
  const logged = recordingLog();

  async function startConnector(
    overrides: { wsUrl?: string; connectTimeoutMs?: number; attachments?: BlobStore } = {},
  ) {
    connector = createWhatsAppConnector({
      ...(overrides.attachments ? { attachments: overrides.attachments } : {}),
      authDir,
      wsUrl: overrides.wsUrl ?? wa.wsUrl,
      access: new PairingStore(store.db),
      policy,
      onInbound: async (msg) => inbound.push(msg),
      log: logged.log,
      health: board.account('whatsapp', 'default'),
      readReceipts: false,
      reconnect: {
        minBackoffMs: 100,
        maxBackoffMs: 500,
        connectTimeoutMs: overrides.connectTimeoutMs ?? 15_000,
      },
    });
    await connector.start();
  }
  const state = () => board.list()[0]!;

  beforeEach(async () => {
    wa = await startFakeWhatsApp();
    store = tempDb();
    inbound = new Inbox();
    board = new ConnectorStatusBoard();
    authDir = await linkedAuthDir(wa.selfJid);
  });
  afterEach(async () => {
    await connector?.stop();
    await wa.close();
    store.cleanup();
  });

  it('keeps its credentials private: folder 0700, files 0600', async () => {
    await startConnector();
    await connector.connection.opened();
    expect(statSync(authDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(authDir, 'creds.json')).mode & 0o777).toBe(0o600);
  });

  it('hands an allowlisted DM on as a valid InboundMessage and reports connected', async () => {
    await startConnector();
    await connector.connection.opened();
    expect(state()).toMatchObject({ state: 'connected' });
    await wa.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      pushName: 'Alice',
      text: 'hello bot',
      messageId: 'IN-1',
    });
    const [msg] = await inbound.waitFor(1, 20_000);
    expect(msg).toMatchObject({
      channel: 'whatsapp',
      accountId: 'default',
      chat: { id: OWNER, kind: 'direct' },
      sender: { id: '+15551234567', name: 'Alice' },
      messageId: 'IN-1',
      text: 'hello bot',
      platformId: `whatsapp:${OWNER}:IN-1`,
    });
  });

  it('downloads a voice note into the blob store and hands on only its reference', async () => {
    const media = new BlobStore({ dir: mkdtempSync(join(tmpdir(), 'switchyard-test-wa-media-')) });
    await startConnector({ attachments: media });
    await connector.connection.opened();
    const bytes = Buffer.from('OggS fake opus voice note bytes');
    await wa.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      messageId: 'IN-V1',
      audio: { contentBase64: bytes.toString('base64'), mimeType: 'audio/ogg; codecs=opus', ptt: true },
    });
    const [msg] = await inbound.waitFor(1, 20_000);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(msg!.attachments).toEqual([
      {
        id: 'IN-V1',
        kind: 'voice',
        mime: 'audio/ogg',
        size: bytes.length,
        sha256,
        url: 'whatsapp:message/IN-V1',
      },
    ]);
    expect(await media.read(sha256)).toEqual(bytes);
  });

  it('sends a stranger a pairing code and hands nothing on', async () => {
    await startConnector();
    await connector.connection.opened();
    await wa.inject({ chatJid: STRANGER, senderJid: STRANGER, text: 'who are you?', messageId: 'IN-S1' });
    const code = await until(() => wa.accepted().find((m) => m.chatJid === STRANGER), 20_000);
    expect(code.text).toMatch(/pairing approve whatsapp [A-Z0-9]{8}/);
    await connector.idle();
    expect(inbound.items).toEqual([]);
  });

  it('sends with the id derived from the outbox key, so a retry is the same message', async () => {
    await startConnector();
    await connector.connection.opened();
    const first = await connector.sender(OWNER, 'the answer', { idempotencyKey: 'turn:x:reply:0' });
    const again = await connector.sender(OWNER, 'the answer', { idempotencyKey: 'turn:x:reply:0' });
    expect(first.messageId).toBe(whatsappMessageId('turn:x:reply:0'));
    expect(again.messageId).toBe(first.messageId);
    await until(() => (wa.accepted().length > 0 ? true : undefined));
    // A sentinel sent after proves the duplicate had been processed (and dropped) before it.
    await connector.sender(OWNER, 'sentinel', { idempotencyKey: 'turn:y:reply:0' });
    await until(() => wa.accepted().find((m) => m.text === 'sentinel'));
    expect(wa.accepted().map((m) => m.text)).toEqual(['the answer', 'sentinel']);
  });

  it('quotes the message it answers when it still has it', async () => {
    await startConnector();
    await connector.connection.opened();
    await wa.inject({ chatJid: OWNER, senderJid: OWNER, text: 'quote me', messageId: 'IN-Q1' });
    await inbound.waitFor(1, 20_000);
    const own: unknown[] = [];
    connector.connection.socket()!.ev.on('messages.upsert', ({ messages }) => own.push(...messages));
    await connector.sender(OWNER, 'quoted answer', { idempotencyKey: 'turn:q:0', replyToMessageId: 'IN-Q1' });
    const echoed = await until(() => (own.length > 0 ? JSON.stringify(own) : undefined));
    expect(echoed).toContain('"stanzaId":"IN-Q1"');
  });

  it('shows typing… and stops it', async () => {
    await startConnector();
    await connector.connection.opened();
    await connector.typing(OWNER);
    await connector.paused(OWNER);
    const states = await until(() => {
      const found = wa
        .events()
        .filter((e) => (e.body as { tag?: string } | undefined)?.tag === 'chatstate')
        .map((e) => (e.body as { content?: Array<{ tag: string }> }).content?.[0]?.tag);
      return found.length >= 2 ? found : undefined;
    });
    expect(states).toEqual(['composing', 'paused']);
  });

  it('reconnects after the server goes away and comes back, and receives what was sent meanwhile', async () => {
    await startConnector();
    await connector.connection.opened();
    await wa.stop();
    await until(() => (state().state === 'reconnecting' ? true : undefined), 20_000);
    expect(state().attempt).toBeGreaterThanOrEqual(1);
    await wa.restart();
    await until(() => (state().state === 'connected' ? true : undefined), 30_000);
    await wa.inject({ chatJid: OWNER, senderJid: OWNER, text: 'after the restart', messageId: 'IN-R1' });
    const [msg] = await inbound.waitFor(1, 20_000);
    expect(msg!.text).toBe('after the restart');
  });

  it('gives up on a socket that hangs in connecting (wrong token) and says so', async () => {
    const wrong = wa.wsUrl.replace(/access_token=[^&]+/, 'access_token=wrong');
    await startConnector({ wsUrl: wrong, connectTimeoutMs: 1_000 });
    const status = await until(() => (state().state === 'reconnecting' ? state() : undefined), 20_000);
    expect(status.lastError).toMatch(/no answer from WhatsApp within 1 s/);
    expect(status.lastError).not.toContain(wa.manifest.accessToken);
  });

  it('reports logged out, clears the dead credentials and stops reconnecting', async () => {
    await startConnector();
    await connector.connection.opened();
    await connector.connection.socket()!.logout();
    const status = await until(() => (state().state === 'logged-out' ? state() : undefined), 20_000);
    expect(status.action).toMatch(/switchyard channels login whatsapp/);
    await until(async () => ((await hasLinkedCreds(authDir)) ? undefined : true));
  });

  it('waits, logged out, when the account was never linked', async () => {
    authDir = `${authDir}-fresh`;
    await startConnector();
    expect(state()).toMatchObject({ state: 'logged-out', lastError: 'not linked yet' });
  });
});
