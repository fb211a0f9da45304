// A local server speaking WhatsApp Web's protocol (crabline, in-process), driven by the real
// baileys; its recorder; and linked credentials for it (crabline has no QR pairing, so a test
// account is "linked" by writing creds.me the way the QR flow would).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWhatsAppServer, type WhatsAppServerManifest } from '@openclaw/crabline';
import { openAuthState } from '../../channels/whatsapp/auth-state.js';

export interface FakeWhatsApp {
  manifest: WhatsAppServerManifest;
  wsUrl: string;
  selfJid: string;
  port: number;
  /** A user's message (crabline's admin inbound body: chatJid, senderJid, pushName, text, messageId?). */
  inject(body: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  /** Messages the server accepted from the bot, in order. */
  accepted(): Array<{ chatJid: string; id: string; text: string; message: Record<string, unknown> }>;
  /** Every recorded event (for chatstate / receipt nodes). */
  events(): Array<Record<string, unknown>>;
  /** Stops the server (the port stays known). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same tokens and a new recorder. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeWhatsApp(): Promise<FakeWhatsApp> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-whatsapp-'));
  const recorders: string[] = [];
  let server: Awaited<ReturnType<typeof startWhatsAppServer>> | undefined;
  const start = async (params: Parameters<typeof startWhatsAppServer>[0] = {}) => {
    const recorderPath = join(dir, `recorder-${recorders.length}.jsonl`);
    recorders.push(recorderPath);
    server = await startWhatsAppServer({ ...params, recorderPath });
    return server;
  };
  const first = await start();
  const manifest = first.manifest;
  const port = Number(new URL(manifest.baseUrl).port);
  const events = () =>
    recorders.flatMap((path) => {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .flatMap((line) => {
          const value = JSON.parse(line) as Record<string, unknown> & {
            events?: Array<Record<string, unknown>>;
          };
          return Array.isArray(value.events) ? value.events : [value];
        });
    });
  return {
    manifest,
    wsUrl: manifest.endpoints.baileysWebSocketUrl,
    selfJid: manifest.selfJid,
    port,
    async inject(body) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => undefined) };
    },
    accepted() {
      return events()
        .filter((e) => e.accepted === true)
        .map((e) => {
          const body = e.body as { key: { id: string; remoteJid: string }; message: Record<string, unknown> };
          const message = body.message ?? {};
          const text =
            (message.conversation as string | undefined) ??
            (message.extendedTextMessage as { text?: string } | undefined)?.text ??
            '';
          return { chatJid: body.key.remoteJid, id: body.key.id, text, message };
        });
    },
    events,
    async stop() {
      await server?.close();
      server = undefined;
    },
    async restart() {
      await start({
        port,
        accessToken: manifest.accessToken,
        adminToken: manifest.adminToken,
        selfJid: manifest.selfJid,
      });
    },
    async close() {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Credentials of a device linked to `selfJid`, as the QR flow would leave them. */
export async function linkedAuthDir(
  selfJid: string,
  dir = mkdtempSync(join(tmpdir(), 'switchyard-test-wa-auth-')),
) {
  const auth = await openAuthState(dir);
  auth.state.creds.me = { id: selfJid, name: 'Switchyard' };
  await auth.saveCreds();
  return dir;
}
