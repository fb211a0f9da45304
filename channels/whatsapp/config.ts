// The connector keys of `channels.whatsapp` in switchyard.yaml, for one linked number or several
// (`accounts:`, see channels/accounts.ts). Checked at config load against
// channelConfigSchema(whatsappConnectorProperties); WhatsApp needs no token: an account is linked
// by scanning a QR code, and its credentials live in its folder under the data directory.
import { isAbsolute, join } from 'node:path';
import { type AccountBlock, accountBlocks } from '../accounts.js';

export interface WhatsAppAccountSettings {
  enabled?: boolean;
  authDir?: string;
  readReceipts?: boolean;
  wsUrl?: string;
}

export interface ResolvedWhatsAppConfig {
  accountId: string;
  /** Absolute folder of the account's credentials (0700, files 0600). */
  authDir: string;
  /** Mark accepted messages as read (blue ticks). */
  readReceipts: boolean;
  /** WhatsApp Web's WebSocket; only set for tests (a local server speaking the protocol). */
  wsUrl?: string;
}

export const whatsappConnectorProperties = {
  authDir: {
    description:
      "Folder of the linked device's credentials (relative to the data directory). Default whatsapp/<account id>.",
    type: 'string',
    minLength: 1,
  },
  readReceipts: {
    description: 'Mark messages the assistant accepted as read (blue ticks). Default true.',
    type: 'boolean',
  },
  wsUrl: {
    description: 'For tests only: the WhatsApp Web WebSocket URL (a local server speaking its protocol).',
    type: 'string',
    pattern: '^wss?://',
  },
} as const;

/** The accounts `channels.whatsapp` configures (enabled ones), with their folders resolved. */
export function resolveWhatsAppAccounts(raw: unknown, home: string): ResolvedWhatsAppConfig[] {
  return accountBlocks('whatsapp', raw)
    .filter((block) => block.enabled)
    .map((block) => resolveAccount(block, home));
}

/** The credentials folder of one account (for `switchyard channels login` too). */
export function whatsappAuthDir(home: string, accountId: string, authDir?: string): string {
  if (authDir === undefined) return join(home, 'whatsapp', accountId);
  return isAbsolute(authDir) ? authDir : join(home, authDir);
}

function resolveAccount(block: AccountBlock, home: string): ResolvedWhatsAppConfig {
  const settings = block.settings as WhatsAppAccountSettings;
  return {
    accountId: block.accountId,
    authDir: whatsappAuthDir(home, block.accountId, settings.authDir),
    readReceipts: settings.readReceipts ?? true,
    ...(settings.wsUrl === undefined ? {} : { wsUrl: settings.wsUrl }),
  };
}
