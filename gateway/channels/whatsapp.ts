/**
 * WhatsApp in the gateway: one connector per configured account (channels.whatsapp, with
 * `accounts:` for several numbers), its sender for the `<taskQueue>.channel.whatsapp` queue
 * (message ids derived from the outbox key: exactly once), "typing…" while a turn streams, and
 * QR linking: `GET /channels/whatsapp/login` starts linking an account that is not linked and
 * shows its QR code; `GET /channels/whatsapp/login/state` is the same as JSON (for the page and
 * the CLI; `?start` begins linking, or tries again after a failure). Both
 * answer loopback callers, or anyone with the gateway token (`?token=` or a Bearer header).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChannelSender } from '../../activities/channel-send.js';
import { channelPolicyFor } from '../../channels/access.js';
import type { AttachmentStore } from '../../channels/attachments.js';
import type { ConnectorStatusBoard } from '../../channels/status.js';
import { isLoopback } from '../../channels/webchat/connector.js';
import { resolveWhatsAppAccounts } from '../../channels/whatsapp/config.js';
import type { WhatsAppConnector } from '../../channels/whatsapp/connector.js';
import type { Linking } from '../../channels/whatsapp/login.js';
import type { Config } from '../../config/config.js';
import { secretsMatch } from '../auth.js';
import type { Database } from '../store/db.js';
import { SqliteInboundJournal } from '../store/inbound-journal.js';
import { PairingStore } from '../store/pairing.js';
import type { DeltaHub } from '../stream/hub.js';
import type { Ingest } from './router.js';
import { createTypingIndicator } from './typing.js';

export const WHATSAPP_LOGIN_PATH = '/channels/whatsapp/login';

export interface WhatsAppAccountsOptions {
  app: FastifyInstance;
  config: Config;
  db: Database;
  token: string;
  hub: DeltaHub;
  status: ConnectorStatusBoard;
  ingest(message: Parameters<Ingest>[0]): Promise<void>;
  attachments?: AttachmentStore;
}

/** What the login endpoints say about an account. */
export interface LoginState {
  accountId: string;
  state: 'linked' | 'waiting-for-scan' | 'starting' | 'failed';
  /** The current QR code (rotates about every 20 s), while waiting for a scan. */
  qr?: string;
  phone?: string;
  error?: string;
}

interface Account {
  connector: WhatsAppConnector;
  authDir: string;
  wsUrl?: string;
  linking?: Linking;
  login: LoginState;
}

/** Starts every configured WhatsApp account; returns their senders and how to stop them. */
export async function startWhatsAppAccounts(
  options: WhatsAppAccountsOptions,
): Promise<{ senders: ChannelSender[]; close(): Promise<void> }> {
  const { app, config, db, hub, status } = options;
  const accounts = new Map<string, Account>();
  const senders: ChannelSender[] = [];
  const closers: Array<() => Promise<void>> = [];
  const journal = new SqliteInboundJournal(db);
  const wanted = resolveWhatsAppAccounts(config.routing.channels?.whatsapp, config.home);
  // baileys and the QR code renderer load only when an account is configured (startup time and
  // memory of a gateway without WhatsApp, issue 13).
  const { createWhatsAppConnector, linkWhatsApp, qrAsSvg, personId } =
    wanted.length > 0 ? await loadWhatsApp() : notLoaded;

  for (const settings of wanted) {
    const { accountId } = settings;
    const log = app.log.child({ channel: 'whatsapp', accountId });
    const health = status.account('whatsapp', accountId, { mode: 'websocket' });
    // WhatsApp shows "typing…" (composing) until paused or a message arrives.
    const typing = createTypingIndicator({
      hub,
      channel: 'whatsapp',
      typing: (chatId) => connector.typing(chatId),
      stopTyping: (chatId) => connector.paused(chatId),
      intervalMs: 10_000,
      onError: (err) => log.debug({ err }, 'typing indicator failed'),
    });
    const connector = createWhatsAppConnector({
      accountId,
      authDir: settings.authDir,
      ...(settings.wsUrl ? { wsUrl: settings.wsUrl } : {}),
      readReceipts: settings.readReceipts,
      access: new PairingStore(db),
      policy: channelPolicyFor(config.routing, 'whatsapp', accountId),
      onInbound: async (message) => {
        await options.ingest(message);
        typing.watch(message);
      },
      journal,
      ...(options.attachments ? { attachments: options.attachments } : {}),
      log,
      health,
    });
    accounts.set(accountId, {
      connector,
      authDir: settings.authDir,
      ...(settings.wsUrl ? { wsUrl: settings.wsUrl } : {}),
      login: { accountId, state: 'starting' },
    });
    senders.push({
      channel: connector.channel,
      accountId,
      textLimit: connector.textLimit,
      dedupesById: true,
      send: (chatId, text, opts) => {
        typing.replied(chatId, opts?.replyToMessageId);
        return connector.sender(chatId, text, opts);
      },
    });
    app.addHook('onReady', () => connector.start());
    closers.push(async () => {
      typing.close();
      accounts.get(accountId)?.linking?.cancel();
      await connector.stop();
    });
  }

  /**
   * The account's login state. With `start`, linking begins when the account is not linked and
   * nobody is linking it (or the last attempt failed); without, it is only reported.
   */
  function loginState(account: Account, start: boolean): LoginState {
    const { connector } = account;
    const identity = connector.connection.identity();
    if (identity) return { accountId: connector.accountId, state: 'linked', phone: personId(identity.jid) };
    const inProgress =
      account.linking && (account.login.state === 'starting' || account.login.state === 'waiting-for-scan');
    if (start && !inProgress) startLinking(account);
    return account.login;
  }

  function startLinking(account: Account): void {
    const { connector } = account;
    const log = app.log.child({ channel: 'whatsapp', accountId: connector.accountId });
    account.login = { accountId: connector.accountId, state: 'starting' };
    const linking = linkWhatsApp({
      authDir: account.authDir,
      ...(account.wsUrl ? { wsUrl: account.wsUrl } : {}),
      log,
      onQr: (qr) => {
        account.login = { accountId: connector.accountId, state: 'waiting-for-scan', qr };
      },
    });
    account.linking = linking;
    linking.done.then(
      async (result) => {
        account.login = { accountId: connector.accountId, state: 'linked', phone: result.phone };
        log.info({ phone: result.phone }, 'whatsapp: account linked; connecting');
        await connector.stop();
        await connector.start();
      },
      (error: Error) => {
        account.login = { accountId: connector.accountId, state: 'failed', error: error.message };
        log.warn({ err: error }, 'whatsapp: linking failed');
      },
    );
  }

  const allowed = (req: FastifyRequest) => {
    if (isLoopback(req.raw)) return true;
    const header = req.headers.authorization;
    const query = (req.query as { token?: unknown }).token;
    const given = header?.startsWith('Bearer ')
      ? header.slice(7).trim()
      : typeof query === 'string'
        ? query
        : undefined;
    return given !== undefined && secretsMatch(given, options.token);
  };
  const pick = (req: FastifyRequest, reply: FastifyReply): Account | undefined => {
    if (!allowed(req)) {
      void reply
        .code(401)
        .type('text/plain; charset=utf-8')
        .send('Linking WhatsApp needs this machine (loopback) or the gateway token (?token=<token>).');
      return undefined;
    }
    const wanted = String((req.query as { account?: unknown }).account ?? 'default').toLowerCase();
    const account = accounts.get(wanted);
    if (!account) {
      void reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send(
          accounts.size === 0
            ? 'WhatsApp is not configured: add `channels: { whatsapp: {} }` to switchyard.yaml and restart the gateway.'
            : `No WhatsApp account "${wanted}" (configured: ${[...accounts.keys()].join(', ')}).`,
        );
    }
    return account;
  };

  app.get(`${WHATSAPP_LOGIN_PATH}/state`, async (req, reply) => {
    const account = pick(req, reply);
    if (!account) return reply;
    const state = loginState(account, Object.hasOwn(req.query as object, 'start'));
    return { ...state, ...(state.qr ? { qrSvg: await qrAsSvg(state.qr) } : {}) };
  });
  app.get(WHATSAPP_LOGIN_PATH, async (req, reply) => {
    const account = pick(req, reply);
    if (!account) return reply;
    loginState(account, true);
    const query = new URLSearchParams();
    query.set('account', account.connector.accountId);
    const token = (req.query as { token?: unknown }).token;
    if (typeof token === 'string') query.set('token', token);
    return reply.type('text/html; charset=utf-8').send(loginPage(`${WHATSAPP_LOGIN_PATH}/state?${query}`));
  });

  return {
    senders,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

async function loadWhatsApp() {
  const [connector, login, normalize] = await Promise.all([
    import('../../channels/whatsapp/connector.js'),
    import('../../channels/whatsapp/login.js'),
    import('../../channels/whatsapp/normalize.js'),
  ]);
  return {
    createWhatsAppConnector: connector.createWhatsAppConnector,
    linkWhatsApp: login.linkWhatsApp,
    qrAsSvg: login.qrAsSvg,
    personId: normalize.personId,
  };
}

/** Stands in for the WhatsApp modules when no account is configured (nothing calls them then). */
const unloaded = (): never => {
  throw new Error('the WhatsApp modules are not loaded: no WhatsApp account is configured');
};
const notLoaded: Awaited<ReturnType<typeof loadWhatsApp>> = {
  createWhatsAppConnector: unloaded,
  linkWhatsApp: unloaded,
  qrAsSvg: unloaded,
  personId: unloaded,
};

function loginPage(stateUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link WhatsApp — Switchyard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}
#qr svg{width:18rem;height:18rem}#status{margin:1rem 0}</style></head>
<body><h1>Link WhatsApp</h1>
<p>On your phone open WhatsApp → Settings → Linked devices → Link a device, and scan this code.</p>
<div id="status">Starting…</div><div id="qr"></div>
<script>
const url = ${JSON.stringify(stateUrl)};
async function poll() {
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    const s = await res.json();
    const status = document.getElementById('status');
    const qr = document.getElementById('qr');
    if (s.state === 'linked') { status.textContent = 'Linked' + (s.phone ? ' (' + s.phone + ')' : '') + '. You can close this page.'; qr.innerHTML = ''; return; }
    if (s.state === 'failed') { status.textContent = 'Linking failed: ' + s.error + ' Reload to try again.'; qr.innerHTML = ''; return; }
    if (s.qrSvg) { status.textContent = 'Waiting for the scan… (the code changes every 20 s)'; qr.innerHTML = s.qrSvg; }
  } catch (e) { document.getElementById('status').textContent = 'The gateway does not answer: ' + e; }
  setTimeout(poll, 2000);
}
poll();
</script></body></html>`;
}
