// The config schemas of every connector, by channel id: `channels.<id>` in switchyard.yaml is
// checked against its connector's schema when the config is loaded, so a wrong key or value is
// reported with its file:line like any other. A new connector adds its entry here (its
// `<name>ConnectorProperties`, wrapped by channelConfigSchema in channels/accounts.ts).
// Channels without a connector entry (webchat, …) keep the access-policy check of routing.schema.json.
import { channelConfigSchema } from './accounts.js';
import { discordConnectorProperties } from './discord/config.js';
import { compileSchema, type SchemaIssue } from './schema-validation.js';
import { slackConnectorProperties } from './slack/config.js';
import { telegramConnectorProperties } from './telegram/config.js';
import { whatsappConnectorProperties } from './whatsapp/config.js';

const CONNECTOR_PROPERTIES: Record<string, Record<string, unknown>> = {
  telegram: telegramConnectorProperties,
  slack: slackConnectorProperties,
  discord: discordConnectorProperties,
  whatsapp: whatsappConnectorProperties,
};

const validators = new Map(
  Object.entries(CONNECTOR_PROPERTIES).map(([id, properties]) => [
    id,
    compileSchema<unknown>(channelConfigSchema(properties)),
  ]),
);

/** The full schema of `channels.<id>` for a known connector (for docs and editors). */
export function connectorConfigSchema(channel: string): Record<string, unknown> | undefined {
  const properties = CONNECTOR_PROPERTIES[channel];
  return properties && channelConfigSchema(properties);
}

/** Issues of every known connector's block, with paths from the top (`channels.telegram.accounts.a.botToken`). */
export function validateChannelsConfig(channels: unknown): SchemaIssue[] {
  if (!channels || typeof channels !== 'object') return [];
  const issues: SchemaIssue[] = [];
  for (const [id, block] of Object.entries(channels as Record<string, unknown>)) {
    const check = validators.get(id);
    if (!check) continue;
    const result = check(block ?? {});
    if (!result.ok) {
      for (const issue of result.errors) {
        issues.push({ ...issue, path: issue.path ? `channels.${id}.${issue.path}` : `channels.${id}` });
      }
    }
  }
  return issues;
}
