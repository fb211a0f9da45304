// What each connector account is really doing, reported by the connector itself at every
// transition: connecting, connected, reconnecting since T (attempt n, last error), logged out or
// auth failed (with what to do), disabled, stopped. The gateway keeps one board of them and shows
// it in /readyz, `switchyard doctor` and OpenClaw's health/status, so a listener that died is
// never reported as fine. Pure bookkeeping: no I/O, the clock is passed in for tests.

export type ConnectorState =
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'logged-out'
  | 'auth-failed'
  | 'disabled'
  | 'stopped';

export interface ConnectorStatus {
  channel: string;
  accountId: string;
  state: ConnectorState;
  /** When the current state began (ms since the epoch); for reconnecting, the first failed attempt. */
  since: number;
  /** Reconnecting: attempts made since the connection was lost, counted from 1. */
  attempt?: number;
  /** The last failure, one line, with known secrets masked. */
  lastError?: string;
  /** Logged out, auth failed, disabled: what the owner should do about it. */
  action?: string;
  /** How the connector talks to the platform, e.g. polling, webhook, websocket. */
  mode?: string;
  lastConnectedAt?: number;
  lastInboundAt?: number;
}

/** The handle a connector reports through; one per channel account. */
export interface ConnectorHealth {
  readonly channel: string;
  readonly accountId: string;
  current(): ConnectorStatus;
  connecting(): void;
  connected(): void;
  /** A connection attempt failed or the connection dropped; the connector is trying again. */
  reconnecting(error: unknown): void;
  /** The platform ended the session for good (WhatsApp unlinked the device): it needs the owner. */
  loggedOut(action: string, error?: unknown): void;
  /** The platform refused the credentials. */
  authFailed(error: unknown, action: string): void;
  disabled(reason: string): void;
  stopped(): void;
  /** A message arrived (proves the listener lives). */
  inbound(): void;
  /** A failure worth showing that did not change the state (e.g. a watchdog firing). */
  noteError(error: unknown): void;
}

/** Connecting or reconnecting for longer than this is a problem, so it is visible within a minute. */
export const STUCK_AFTER_MS = 30_000;

export interface StatusBoardOptions {
  now?: () => number;
  /** Called after a state change (not after inbound()): e.g. broadcast health to clients. */
  onChange?(status: ConnectorStatus): void;
}

export class ConnectorStatusBoard {
  private readonly accounts = new Map<string, ConnectorHealth>();
  private readonly now: () => number;

  constructor(private readonly options: StatusBoardOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The reporting handle of one account (the same one when asked twice). `secrets` are masked in
   * every error text this account reports (tokens that may appear in URLs or messages).
   */
  account(
    channel: string,
    accountId: string,
    options: { mode?: string; secrets?: readonly string[] } = {},
  ): ConnectorHealth {
    const id = `${channel}/${accountId}`;
    const existing = this.accounts.get(id);
    if (existing) return existing;
    const health = createHealth(channel, accountId, options, this.now, (s) => this.options.onChange?.(s));
    this.accounts.set(id, health);
    return health;
  }

  /** Drops an account (removed from the config, or rebuilt: its next handle starts afresh). */
  forget(channel: string, accountId: string): void {
    this.accounts.delete(`${channel}/${accountId}`);
  }

  /** Every account's status, in the order they were registered. */
  list(): ConnectorStatus[] {
    return [...this.accounts.values()].map((a) => a.current());
  }
}

function createHealth(
  channel: string,
  accountId: string,
  options: { mode?: string; secrets?: readonly string[] },
  now: () => number,
  changed: (status: ConnectorStatus) => void,
): ConnectorHealth {
  let status: ConnectorStatus = {
    channel,
    accountId,
    state: 'connecting',
    since: now(),
    ...(options.mode ? { mode: options.mode } : {}),
  };
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const text = (error: unknown) => errorLine(error, secrets);
  // Fields that survive every transition: what happened before still helps the reader.
  const kept = () => ({
    channel,
    accountId,
    ...(status.mode ? { mode: status.mode } : {}),
    ...(status.lastConnectedAt === undefined ? {} : { lastConnectedAt: status.lastConnectedAt }),
    ...(status.lastInboundAt === undefined ? {} : { lastInboundAt: status.lastInboundAt }),
    ...(status.lastError === undefined ? {} : { lastError: status.lastError }),
  });
  const set = (next: ConnectorStatus) => {
    const stateChanged = next.state !== status.state || next.attempt !== status.attempt;
    status = next;
    if (stateChanged) changed(status);
  };
  return {
    channel,
    accountId,
    current: () => ({ ...status }),
    connecting() {
      if (status.state === 'connecting') return;
      set({ ...kept(), state: 'connecting', since: now() });
    },
    connected() {
      if (status.state === 'connected') return;
      const at = now();
      set({ ...kept(), state: 'connected', since: at, lastConnectedAt: at });
    },
    reconnecting(error) {
      const streak = status.state === 'reconnecting' || status.state === 'connecting';
      set({
        ...kept(),
        state: 'reconnecting',
        since: streak ? status.since : now(),
        attempt: status.state === 'reconnecting' ? (status.attempt ?? 0) + 1 : 1,
        lastError: text(error),
      });
    },
    loggedOut(action, error) {
      set({
        ...kept(),
        state: 'logged-out',
        since: status.state === 'logged-out' ? status.since : now(),
        action,
        ...(error === undefined ? {} : { lastError: text(error) }),
      });
    },
    authFailed(error, action) {
      set({
        ...kept(),
        state: 'auth-failed',
        since: status.state === 'auth-failed' ? status.since : now(),
        action,
        lastError: text(error),
      });
    },
    disabled(reason) {
      set({ ...kept(), state: 'disabled', since: now(), action: reason });
    },
    stopped() {
      if (status.state === 'stopped') return;
      set({ ...kept(), state: 'stopped', since: now() });
    },
    inbound() {
      status = { ...status, lastInboundAt: now() };
    },
    noteError(error) {
      status = { ...status, lastError: text(error) };
    },
  };
}

/** One line of an error, secrets masked, at most 300 characters. */
export function errorLine(error: unknown, secrets: readonly string[] = []): string {
  const raw =
    error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  let line = (raw ?? String(error)).split('\n')[0]!.trim() || String(error);
  for (const secret of secrets) line = line.split(secret).join('***');
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Why this account needs attention now, as a sentence; undefined when it does not. Logged out
 * and auth failed always do; connecting or reconnecting once it has lasted STUCK_AFTER_MS.
 */
export function connectorProblem(status: ConnectorStatus, now: number = Date.now()): string | undefined {
  const who = `${status.channel}/${status.accountId}`;
  const lasted = now - status.since;
  const error = status.lastError ? `: ${status.lastError}` : '';
  switch (status.state) {
    case 'logged-out':
      return `${who} is logged out${error}. ${status.action ?? ''}`.trim();
    case 'auth-failed':
      return `${who} was refused by the platform${error}. ${status.action ?? ''}`.trim();
    case 'reconnecting':
      if (lasted < STUCK_AFTER_MS) return undefined;
      return `${who} has been reconnecting since ${new Date(status.since).toISOString()} (attempt ${status.attempt ?? 1})${error}`;
    case 'connecting':
      if (lasted < STUCK_AFTER_MS) return undefined;
      return `${who} has been connecting for ${Math.round(lasted / 1000)} s without success${error}`;
    default:
      return undefined;
  }
}

/** A short human description of a status, e.g. for `switchyard doctor`. */
export function describeStatus(status: ConnectorStatus, now: number = Date.now()): string {
  const ago = formatAgo(now - status.since);
  const mode = status.mode ? ` (${status.mode})` : '';
  switch (status.state) {
    case 'connected':
      return `connected${mode} for ${ago}`;
    case 'connecting':
      return `connecting${mode} for ${ago}${status.lastError ? `; last error: ${status.lastError}` : ''}`;
    case 'reconnecting':
      return `reconnecting${mode} for ${ago}, attempt ${status.attempt ?? 1}; last error: ${status.lastError ?? 'unknown'}`;
    case 'logged-out':
      return `logged out ${ago} ago${status.lastError ? ` (${status.lastError})` : ''}`;
    case 'auth-failed':
      return `credentials refused ${ago} ago: ${status.lastError ?? 'unknown error'}`;
    case 'disabled':
      return `disabled${status.action ? `: ${status.action}` : ''}`;
    case 'stopped':
      return 'stopped';
  }
}

function formatAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.round(m / 60)} h`;
}
