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
  /** An `event_callback` body; throwing leaves the envelope unacknowledged. */
  handle(body: unknown, delivery: SlackDelivery): Promise<void>;
  log: ConnectorLog;
  /** Secrets to blank out of anything the SDK logs. */
  secrets: string[];
  /** The connection's ups and downs, for the connector's status. */
  onState?(state: 'connected' | 'reconnecting' | 'disconnected', detail?: string): void;
}

export interface SocketModeConnection {
  /** Resolves when Slack said hello on the first connection. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function connectSocketMode(options: SocketModeOptions): SocketModeConnection {
  const { handle, log } = options;
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger: sdkLogger(log, options.secrets),
    ...(options.apiUrl ? { installerOptions: { clientOptions: { slackApiUrl: options.apiUrl } } } : {}),
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
      const type = (event.body as { type?: unknown }).type;
      if (type === 'event_callback') {
        await handle(event.body, {
          ...(event.retryNum === undefined ? {} : { retryNum: event.retryNum }),
          ...(event.retryReason === undefined ? {} : { retryReason: event.retryReason }),
        });
      }
      // Slash commands and interactivity are not used; acknowledged so Slack shows no error.
      await event.ack();
    },
  };
  // The receiver only ever calls processEvent on what init() gives it.
  receiver.init(sink as unknown as App);
  const client = receiver.client;
  client.on('connected', () => options.onState?.('connected'));
  client.on('reconnecting', () => options.onState?.('reconnecting'));
  client.on('disconnected', (error?: unknown) =>
    options.onState?.('disconnected', error === undefined ? undefined : String(error)),
  );
  return {
    async start() {
      await receiver.start();
    },
    async stop() {
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
