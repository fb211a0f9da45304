// `onUncertain`: what a channel whose platform cannot deduplicate (Telegram, Slack) does with a
// reply chunk whose send has an unknown outcome (the gateway died between the outbox claim and
// the platform's answer). activities/channel-send.ts applies it; docs/channels/delivery.md.
import type { UncertainPolicy } from '../activities/channel-send.js';

export const onUncertainProperty = {
  description:
    'A reply chunk whose send has an unknown outcome (the gateway died mid-send): skip (default: never twice, reported as uncertain), resend (never lost, maybe twice) or notice (sent again after "(a message may have been lost; here it is again)").',
  enum: ['skip', 'resend', 'notice'],
} as const;

/** The account's policy as configured (a block that passed the schema); undefined means `skip`. */
export function onUncertainOf(settings: Record<string, unknown>): UncertainPolicy | undefined {
  const value = settings.onUncertain;
  return value === 'skip' || value === 'resend' || value === 'notice' ? value : undefined;
}
