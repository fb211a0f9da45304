// Linking a WhatsApp account by QR code, as WhatsApp Web does: a socket with fresh credentials
// gets a rotating QR code from WhatsApp; the owner scans it with WhatsApp on the phone (Settings
// → Linked devices → Link a device); WhatsApp then asks for a restart (515), and the reconnected
// socket opens with the account's credentials, saved 0600 in the account's folder. Used by
// `switchyard channels login whatsapp` and by the gateway's login page.
import makeWASocket, { Browsers, DisconnectReason, makeCacheableSignalKeyStore } from 'baileys';
import QRCode from 'qrcode';
import type { ConnectorLog } from '../log.js';
import { clearAuthState, openAuthState } from './auth-state.js';
import { baileysLogger } from './logging.js';
import { personId } from './normalize.js';

export interface LinkOptions {
  authDir: string;
  /** Only for tests: WhatsApp Web's WebSocket URL. */
  wsUrl?: string;
  log: ConnectorLog;
  /** Each new QR code (they rotate about every 20 s); show it to the owner. */
  onQr(qr: string): void;
  /** Give up after this long without a successful scan. Default 3 min. */
  timeoutMs?: number;
}

export type LinkResult =
  | { kind: 'linked'; phone: string }
  /** The folder already holds linked credentials; nothing was changed. */
  | { kind: 'already-linked'; phone: string };

export interface Linking {
  done: Promise<LinkResult>;
  cancel(): void;
}

export class WhatsAppLinkError extends Error {
  override readonly name = 'WhatsAppLinkError';
}

export function linkWhatsApp(options: LinkOptions): Linking {
  const { log } = options;
  let cancelled = false;
  let end: (() => void) | undefined;
  let rejectDone: (error: Error) => void = () => {};
  const done = new Promise<LinkResult>((resolve, reject) => {
    rejectDone = reject;
    void (async () => {
      const auth = await openAuthState(options.authDir);
      if (auth.isLinked()) {
        resolve({ kind: 'already-linked', phone: personId(auth.state.creds.me!.id) });
        return;
      }
      const timer = setTimeout(
        () => fail(new WhatsAppLinkError('no QR code was scanned in time; run the login again')),
        options.timeoutMs ?? 180_000,
      );
      timer.unref();
      let finished = false;
      const fail = (error: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        end?.();
        // Half-done credentials would look like an account to the connector: start clean next time.
        void clearAuthState(options.authDir).finally(() => reject(error));
      };
      const connect = () => {
        if (cancelled || finished) return;
        const logger = baileysLogger(log, { linking: true });
        const sock = makeWASocket({
          auth: { creds: auth.state.creds, keys: makeCacheableSignalKeyStore(auth.state.keys, logger) },
          logger,
          browser: Browsers.ubuntu('Switchyard'),
          markOnlineOnConnect: false,
          syncFullHistory: false,
          ...(options.wsUrl ? { waWebSocketUrl: options.wsUrl } : {}),
        });
        end = () => void sock.end(undefined).catch(() => undefined);
        sock.ev.on('creds.update', () => void auth.saveCreds());
        sock.ev.on('connection.update', (update) => {
          if (finished) return;
          if (update.qr) options.onQr(update.qr);
          if (update.connection === 'open') {
            if (!auth.isLinked()) {
              fail(new WhatsAppLinkError('WhatsApp opened the connection without linking a phone number'));
              return;
            }
            finished = true;
            clearTimeout(timer);
            void auth.saveCreds().then(() => {
              end?.();
              resolve({ kind: 'linked', phone: personId(auth.state.creds.me!.id) });
            }, reject);
          } else if (update.connection === 'close') {
            const code = (update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)
              ?.output?.statusCode;
            // After the scan WhatsApp closes with 515 and expects a new connection.
            if (code === DisconnectReason.restartRequired) connect();
            else if (code === DisconnectReason.timedOut)
              fail(new WhatsAppLinkError('the QR code expired; run the login again'));
            else
              fail(
                new WhatsAppLinkError(
                  `WhatsApp closed the connection while linking (${code ?? 'no code'}): ${update.lastDisconnect?.error?.message ?? 'unknown'}`,
                ),
              );
          }
        });
      };
      connect();
    })().catch((error) => rejectDone(error as Error));
  });
  return {
    done,
    cancel() {
      cancelled = true;
      end?.();
      rejectDone(new WhatsAppLinkError('linking cancelled'));
    },
  };
}

/** The QR code as text for a terminal (two rows per character line). */
export function qrForTerminal(qr: string): Promise<string> {
  return QRCode.toString(qr, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}

/** The QR code as an SVG image, for the gateway's login page. */
export function qrAsSvg(qr: string): Promise<string> {
  return QRCode.toString(qr, { type: 'svg', margin: 2, errorCorrectionLevel: 'L' });
}
