// Small persistent settings the protocol owns: the gateway's own Ed25519 identity
// (gateway.identity.get), voice-wake triggers (voicewake.get|set) and the heartbeat switch
// (set-heartbeats). One key/value table in the gateway's SQLite database.
import { generateKeyPairSync } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { deviceIdForPublicKey } from './device-auth.js';

export const DEFAULT_VOICEWAKE_TRIGGERS = ['switchyard', 'computer'];

export interface GatewayIdentity {
  deviceId: string;
  publicKey: string;
}

export class GatewayState {
  constructor(private readonly db: Database) {
    db.exec('CREATE TABLE IF NOT EXISTS openclaw_gateway_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  }

  private read<T>(key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM openclaw_gateway_state WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  private write(key: string, value: unknown): void {
    this.db
      .prepare(
        'INSERT INTO openclaw_gateway_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, JSON.stringify(value));
  }

  /** The gateway's own device identity, created on first use. */
  identity(): GatewayIdentity {
    const stored = this.read<GatewayIdentity & { privateKeyPem: string }>('identity');
    if (stored) return { deviceId: stored.deviceId, publicKey: stored.publicKey };
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const identity = { deviceId: deviceIdForPublicKey(raw), publicKey: raw.toString('base64url') };
    this.write('identity', {
      ...identity,
      privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    return identity;
  }

  voicewakeTriggers(): string[] {
    return this.read<string[]>('voicewake.triggers') ?? [...DEFAULT_VOICEWAKE_TRIGGERS];
  }

  setVoicewakeTriggers(triggers: readonly string[]): string[] {
    const cleaned = [...new Set(triggers.map((t) => t.trim()).filter((t) => t.length > 0))];
    this.write('voicewake.triggers', cleaned);
    return cleaned;
  }

  heartbeatsEnabled(): boolean {
    return this.read<boolean>('heartbeats.enabled') ?? true;
  }

  setHeartbeatsEnabled(enabled: boolean): void {
    this.write('heartbeats.enabled', enabled);
  }
}
