// Several accounts of one platform (two WhatsApp numbers, a work and a home Telegram bot) under
// `channels.<id>.accounts.<accountId>`, beside the single-account shorthand where the keys sit
// directly under `channels.<id>`. With `accounts`, the keys beside it are defaults every account
// inherits and may override (access policy included). Every connector expands its block with
// accountBlocks() and declares its keys with channelConfigSchema(), so the config file is
// checked (file:line) and read the same way for all of them.
import { isRecord } from '../engine/records.js';
import routingSchema from '../schemas/routing.schema.json' with { type: 'json' };
import { normalizeAccountId } from './session-key.js';

export interface AccountBlock {
  /** Normalised account id: 'default' for the shorthand unless it sets `accountId`. */
  accountId: string;
  /** Where the block sits in switchyard.yaml, for error messages: channels.whatsapp.accounts.work */
  path: string;
  /** The account's keys with the shared defaults merged under them (no `accounts`). */
  settings: Record<string, unknown>;
  /** False when the account says `enabled: false`. */
  enabled: boolean;
}

/** The accounts `channels.<channel>` configures (none when the block is absent). */
export function accountBlocks(channel: string, raw: unknown): AccountBlock[] {
  if (!isRecord(raw)) return [];
  const { accounts, accountId, ...shared } = raw;
  if (isRecord(accounts)) {
    return Object.entries(accounts).map(([id, block]) => {
      const settings = { ...shared, ...(block && typeof block === 'object' ? block : {}) } as Record<
        string,
        unknown
      >;
      return {
        accountId: normalizeAccountId(id),
        path: `channels.${channel}.accounts.${id}`,
        settings,
        enabled: settings.enabled !== false,
      };
    });
  }
  return [
    {
      accountId: normalizeAccountId(typeof accountId === 'string' ? accountId : undefined),
      path: `channels.${channel}`,
      settings: shared,
      enabled: shared.enabled !== false,
    },
  ];
}

/** The settings of one account of a channel (for its access policy); the shared keys when unknown. */
export function accountSettings(channel: string, raw: unknown, accountId: string): Record<string, unknown> {
  const blocks = accountBlocks(channel, raw);
  const wanted = normalizeAccountId(accountId);
  const block = blocks.find((b) => b.accountId === wanted);
  if (block) return block.settings;
  if (!raw || typeof raw !== 'object') return {};
  const { accounts: _accounts, accountId: _id, ...shared } = raw as Record<string, unknown>;
  return shared;
}

const policyProperties = routingSchema.$defs.channelPolicy.properties;
const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

/**
 * The JSON Schema of `channels.<id>` for a connector whose own keys are `connectorProperties`:
 * access-policy keys, the connector's keys, `accountId` (shorthand only) and `accounts`, whose
 * entries take the same keys. Unknown keys are errors, so a typo never goes unnoticed.
 */
export function channelConfigSchema(connectorProperties: Record<string, unknown>): Record<string, unknown> {
  const accountProperties = {
    ...policyProperties,
    enabled: { description: 'Run this account. Default: true.', type: 'boolean' },
    ...connectorProperties,
  };
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...accountProperties,
      accountId: {
        description:
          "Account id of the single-account form, in session keys and bindings. Default 'default'.",
        type: 'string',
        pattern: ACCOUNT_ID_PATTERN,
      },
      accounts: {
        description:
          'Several accounts of this platform by account id; the keys beside `accounts` are defaults they inherit.',
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: ACCOUNT_ID_PATTERN },
        additionalProperties: { type: 'object', additionalProperties: false, properties: accountProperties },
      },
    },
    not: { required: ['accountId', 'accounts'] },
  };
}
