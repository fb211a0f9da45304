// Baileys and libsignal talk a lot. Baileys gets a logger that passes its warnings and errors to
// the connector's log (its info/debug chatter is dropped); libsignal writes straight to the
// console — including whole session objects with private keys after a reconnect — so while a
// WhatsApp connector runs, its known console lines go to the log at debug level as one line of
// text, their objects dropped, and everything else reaches the console untouched.
import type { SocketConfig } from 'baileys';
import type { ConnectorLog } from '../log.js';

type ILogger = SocketConfig['logger'];

/** A baileys ILogger on top of the connector's log. */
export function baileysLogger(log: ConnectorLog, bindings: Record<string, unknown> = {}): ILogger {
  const fields = (obj: unknown) => ({ ...bindings, ...(obj && typeof obj === 'object' ? scrub(obj) : {}) });
  const text = (obj: unknown, msg?: string) => msg ?? (typeof obj === 'string' ? obj : 'baileys');
  return {
    level: 'warn',
    child: (more) => baileysLogger(log, { ...bindings, ...more }),
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => log.warn(fields(obj), `whatsapp (baileys): ${text(obj, msg)}`),
    error: (obj, msg) => log.error(fields(obj), `whatsapp (baileys): ${text(obj, msg)}`),
  };
}

/** Keep errors and plain values; drop buffers and key material baileys may attach. */
function scrub(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value instanceof Error) out[key] = value;
    else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return out;
}

const LIBSIGNAL_LINES = [
  /^Closing session/,
  /^Opening session/,
  /^Removing old closed session/,
  /^Session already (closed|open)/,
  /^Closing open session in favor of incoming prekey bundle/,
  /^Closing stale open session/,
  /^Decrypted message with closed session/,
  /^Failed to decrypt message with any known session/,
  /^Session error/,
  /^Migrating session to/,
  /^V1 session storage migration error/,
  /^Unhandled bucket type/,
  /^WARNING: Expected pubkey of length 33/,
];

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';
const METHODS: ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];

let routedTo: ConnectorLog[] = [];
let originals: Partial<Record<ConsoleMethod, (...args: unknown[]) => void>> | undefined;

/** Route libsignal's console lines to `log` until the returned function is called. */
export function routeLibsignalConsole(log: ConnectorLog): () => void {
  routedTo.push(log);
  if (!originals) {
    originals = {};
    for (const method of METHODS) {
      const original = console[method].bind(console) as (...args: unknown[]) => void;
      originals[method] = original;
      console[method] = (...args: unknown[]) => {
        const first = args[0];
        const target = routedTo[0];
        if (target && typeof first === 'string' && LIBSIGNAL_LINES.some((re) => re.test(first))) {
          target.debug({}, `libsignal: ${first.replace(/:$/, '')}`);
          return;
        }
        original(...args);
      };
    }
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    routedTo = routedTo.filter((l) => l !== log);
    if (routedTo.length === 0 && originals) {
      for (const method of METHODS) console[method] = originals[method]! as Console[ConsoleMethod];
      originals = undefined;
    }
  };
}
