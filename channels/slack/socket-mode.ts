// Socket Mode: the gateway opens a WebSocket to Slack (URL from apps.connections.open, called
// with the app-level token), so no public URL is needed. bolt's SocketModeReceiver speaks the
// protocol (hello, envelopes, acks by envelope_id, pings, reconnects). Its events are fed to our
// handler directly rather than through bolt's App, because App acknowledges an event *before*
// its listeners run: an event whose hand-off failed must stay unacknowledged, so Slack delivers
// it again (with retry_attempt) instead of it being lost.
import { type App, type Logger, LogLevel, type ReceiverEvent, SocketModeReceiver } from '@slack/bolt';
import type { ConnectorLog } from '../log.js';
import type { SlackDelivery } from './events-route.js';

export interface SocketModeOptions {
  appToken: string;
  /** Web API root for apps.connections.open (https://slack.com/api/ unless set). */
  apiUrl?: string;
  /** An envelope's payload (an `event_callback`, a slash command…); throwing leaves it unacknowledged. */
  handle(body: unknown, delivery: SlackDelivery): Promise<void>;
  log: ConnectorLog;
  /** Secrets to blank out of anything the SDK logs. */
  secrets: string[];
  /** The connection closed (Slack recycled it, the network dropped): the connector reconnects. */
  onClosed(): void;
}

export interface SocketModeConnection {
  /**
   * Asks Slack for a socket URL (apps.connections.open) and connects; resolves when Slack says
   * hello. Rejects when either fails; call again to retry (the connector owns the backoff).
   */
  connect(): Promise<void>;
  stop(): Promise<void>;
}

export function connectSocketMode(options: SocketModeOptions): SocketModeConnection {
  const { handle, log } = options;
  let stopping = false;
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger: sdkLogger(log, options.secrets),
    // The connector reconnects with its own backoff and reports each attempt; the SDK's own
    // reconnect loop would hide failures (and a failed URL request in it is an unhandled rejection).
    autoReconnectEnabled: false,
    installerOptions: {
      clientOptions: {
        retryConfig: { retries: 0 },
        ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      },
    },
    // Not acknowledged: Slack re-delivers the envelope.
    processEventErrorHandler: async ({ error, event }) => {
      log.error(
        { err: error, eventId: (event.body as { event_id?: unknown }).event_id },
        'slack socket mode: handling the event failed; not acknowledged, so Slack re-delivers it',
      );
      return false;
    },
  });
  const sink = {
    async processEvent(event: ReceiverEvent) {
      await handle(event.body, {
        ...(event.retryNum === undefined ? {} : { retryNum: event.retryNum }),
        ...(event.retryReason === undefined ? {} : { retryReason: event.retryReason }),
      });
      await event.ack();
    },
  };
  // The receiver only ever calls processEvent on what init() gives it.
  receiver.init(sink as unknown as App);
  const client = receiver.client;
  let open = false;
  client.on('connected', () => {
    open = true;
  });
  client.on('disconnected', () => {
    const wasOpen = open;
    open = false;
    if (wasOpen && !stopping) options.onClosed();
  });
  return {
    async connect() {
      stopping = false;
      try {
        await receiver.start();
      } catch (error) {
        throw error ?? new Error('the Socket Mode connection closed before Slack said hello');
      }
    },
    async stop() {
      stopping = true;
      await client.disconnect();
    },
  };
}

/** bolt's Logger on top of ours, with the tokens blanked out of every line. */
export function sdkLogger(log: ConnectorLog, secrets: string[]): Logger {
  const clean = (parts: unknown[]) => {
    let line = parts.map((p) => (p instanceof Error ? p.message : String(p))).join(' ');
    for (const secret of secrets) if (secret) line = line.split(secret).join('[redacted]');
    return line;
  };
  return {
    debug: (...msg: unknown[]) => log.debug({}, clean(msg)),
    info: (...msg: unknown[]) => log.info({}, clean(msg)),
    warn: (...msg: unknown[]) => log.warn({}, clean(msg)),
    error: (...msg: unknown[]) => log.error({}, clean(msg)),
    // The SDK asks for its level to decide whether to build debug lines; keep them out.
    getLevel: () => LogLevel.INFO,
    setLevel: () => {},
    setName: () => {},
  };
}
