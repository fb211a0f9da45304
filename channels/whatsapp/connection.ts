// One linked WhatsApp account's connection, kept alive. Baileys does not reconnect by itself: when
// its socket closes, a new one is made here, after a backoff (1 s doubling to 60 s). A socket
// that hangs in "connecting" (a wrong URL or token makes baileys wait forever) is ended by a
// watchdog and counts as a failed attempt. WhatsApp ending the session (401: the device was
// unlinked on the phone) is final: the connection stops, the credentials are cleared, and the
// account reports "logged out" with how to link it again. Every transition goes to the
// ConnectorHealth, so /readyz and `switchyard doctor` show the truth.
import makeWASocket, {
  type BaileysEventMap,
  Browsers,
  DisconnectReason,
  makeCacheableSignalKeyStore,
  type WASocket,
} from 'baileys';
import type { ConnectorLog } from '../log.js';
import type { ConnectorHealth } from '../status.js';
import { clearAuthState, openAuthState, type WhatsAppAuth } from './auth-state.js';
import { baileysLogger } from './logging.js';
import type { WhatsAppIdentity } from './normalize.js';

export interface WhatsAppConnectionOptions {
  accountId: string;
  authDir: string;
  /** Only for tests: WhatsApp Web's WebSocket URL. */
  wsUrl?: string;
  log: ConnectorLog;
  health?: ConnectorHealth;
  /** New messages (`notify`); handled in order. */
  onMessages(event: BaileysEventMap['messages.upsert'], identity: WhatsAppIdentity): void;
  /** What to tell the owner when the account must be linked (again). */
  linkAction: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A socket not open after this long is ended and retried. Default 30 s. */
  connectTimeoutMs?: number;
}

export interface WhatsAppConnection {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The open socket, or undefined while connecting, reconnecting or logged out. */
  socket(): WASocket | undefined;
  identity(): WhatsAppIdentity | undefined;
  /** Resolves when the next socket opens (tests). */
  opened(): Promise<void>;
}

/** Close codes after which reconnecting cannot help: the owner has to act. */
const FINAL = new Set<number>([DisconnectReason.loggedOut, DisconnectReason.forbidden]);

export function createWhatsAppConnection(options: WhatsAppConnectionOptions): WhatsAppConnection {
  const { log, health, accountId } = options;
  const minBackoff = options.minBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const connectTimeout = options.connectTimeoutMs ?? 30_000;
  let auth: WhatsAppAuth | undefined;
  let sock: WASocket | undefined;
  let open = false;
  let generation = 0;
  let failures = 0;
  let stopped = true;
  let retryTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  const openWaiters: Array<() => void> = [];

  function identityOf(): WhatsAppIdentity | undefined {
    const me = auth?.state.creds.me;
    if (!me?.id) return undefined;
    const bare = (jid: string) => jid.replace(/:\d+@/, '@');
    return { jid: bare(me.id), ...(me.lid ? { lid: bare(me.lid) } : {}) };
  }

  function connect(): void {
    if (stopped || !auth) return;
    const mine = ++generation;
    open = false;
    const logger = baileysLogger(log, { accountId });
    const socket = makeWASocket({
      auth: { creds: auth.state.creds, keys: makeCacheableSignalKeyStore(auth.state.keys, logger) },
      logger,
      browser: Browsers.ubuntu('Switchyard'),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      ...(options.wsUrl ? { waWebSocketUrl: options.wsUrl } : {}),
    });
    sock = socket;
    const current = () => mine === generation && !stopped;
    socket.ev.on('creds.update', () => {
      void auth
        ?.saveCreds()
        .catch((err) => log.error({ err, accountId }, 'whatsapp: saving credentials failed'));
    });
    socket.ev.on('connection.update', (update) => {
      if (!current()) return;
      if (update.connection === 'open') {
        clearTimeout(watchdog);
        open = true;
        failures = 0;
        health?.connected();
        log.info({ accountId }, 'whatsapp: connected');
        for (const resolve of openWaiters.splice(0)) resolve();
      } else if (update.connection === 'close') {
        closed(mine, update.lastDisconnect?.error);
      }
    });
    socket.ev.on('messages.upsert', (event) => {
      if (!current()) return;
      const identity = identityOf();
      if (identity) options.onMessages(event, identity);
    });
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (!current() || open) return;
      const error = new Error(
        `no answer from WhatsApp within ${Math.round(connectTimeout / 1000)} s (is the network up, or the server URL right?)`,
      );
      log.warn({ accountId }, `whatsapp: ${error.message}; starting over`);
      closed(mine, error);
      void socket.end(error).catch(() => undefined);
    }, connectTimeout);
    watchdog.unref();
  }

  function closed(mine: number, error: Error | undefined): void {
    if (mine !== generation || stopped) return;
    generation++; // later events of this socket are stale
    clearTimeout(watchdog);
    open = false;
    sock = undefined;
    // baileys' errors are Boom errors: the close code is output.statusCode.
    const code = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
    if (code !== undefined && FINAL.has(code)) {
      loggedOut(code, error);
      return;
    }
    // 515 (restart required) follows a fresh link: reconnect at once.
    const delay =
      code === DisconnectReason.restartRequired ? 0 : Math.min(maxBackoff, minBackoff * 2 ** failures);
    failures++;
    const reason = error ?? new Error('connection closed');
    health?.reconnecting(reason);
    log.warn(
      { accountId, code, err: error?.message, retryInMs: delay },
      'whatsapp: connection closed; reconnecting',
    );
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
    retryTimer.unref();
  }

  function loggedOut(code: number, error: Error | undefined): void {
    log.error(
      { accountId, code },
      `whatsapp: WhatsApp ended this device's session (${code}). ${options.linkAction}`,
    );
    health?.loggedOut(
      options.linkAction,
      error ?? new Error(code === DisconnectReason.forbidden ? 'forbidden' : 'logged out'),
    );
    // The credentials are dead; clearing them makes the next start ask for a new QR scan.
    const dir = options.authDir;
    auth = undefined;
    void clearAuthState(dir).catch((err) =>
      log.error({ err, accountId }, 'whatsapp: clearing credentials failed'),
    );
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      auth = await openAuthState(options.authDir);
      if (!auth.isLinked()) {
        health?.loggedOut(options.linkAction, new Error('not linked yet'));
        log.warn({ accountId }, `whatsapp: account "${accountId}" is not linked yet. ${options.linkAction}`);
        return;
      }
      health?.connecting();
      connect();
    },
    async stop() {
      stopped = true;
      generation++;
      clearTimeout(retryTimer);
      clearTimeout(watchdog);
      const socket = sock;
      sock = undefined;
      open = false;
      if (socket) await socket.end(undefined).catch(() => undefined);
      health?.stopped();
    },
    socket: () => (open ? sock : undefined),
    identity: identityOf,
    opened() {
      if (open) return Promise.resolve();
      return new Promise((resolve) => openWaiters.push(resolve));
    },
  };
}
