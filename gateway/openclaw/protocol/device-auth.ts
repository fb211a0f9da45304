// Device identity proof: the client signs a pipe-joined payload with its Ed25519 key.
//   v3|deviceId|clientId|mode|role|scopesCSV|signedAtMs|token|nonce|platform|deviceFamily
//   v2|deviceId|clientId|mode|role|scopesCSV|signedAtMs|token|nonce
// platform and deviceFamily are trimmed and ASCII-lowercased; token is the credential the
// client presented (shared token or device token), empty when none.
import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';

/** How far signedAt may be from the gateway clock. */
export const DEVICE_SIGNATURE_SKEW_MS = 2 * 60_000;

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface DeviceProof {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce: string;
}

export interface SignedFields {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  platform?: string;
  deviceFamily?: string;
  /** Every credential the client presented; the signature may cover any one of them, or none. */
  tokens: readonly (string | undefined)[];
}

export type DeviceProofFailure =
  | 'device-public-key'
  | 'device-id-mismatch'
  | 'device-signature-stale'
  | 'device-nonce-missing'
  | 'device-nonce-mismatch'
  | 'device-signature';

export function normalizeDeviceMetadata(value: string | undefined): string {
  return (value ?? '').trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export function deviceIdForPublicKey(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('hex');
}

export function devicePayload(
  version: 'v2' | 'v3',
  deviceId: string,
  fields: SignedFields,
  signedAt: number,
  token: string,
  nonce: string,
): string {
  const base = [
    version,
    deviceId,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(','),
    String(signedAt),
    token,
    nonce,
  ];
  if (version === 'v3')
    base.push(normalizeDeviceMetadata(fields.platform), normalizeDeviceMetadata(fields.deviceFamily));
  return base.join('|');
}

/** Verifies a device proof against the challenge nonce; returns the reason on failure. */
export function verifyDeviceProof(
  device: DeviceProof,
  fields: SignedFields,
  challengeNonce: string,
  now: number,
): { ok: true } | { ok: false; reason: DeviceProofFailure } {
  const raw = Buffer.from(device.publicKey, 'base64url');
  if (raw.length !== 32) return { ok: false, reason: 'device-public-key' };
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return { ok: false, reason: 'device-public-key' };
  }
  if (deviceIdForPublicKey(raw) !== device.id) return { ok: false, reason: 'device-id-mismatch' };
  if (Math.abs(now - device.signedAt) > DEVICE_SIGNATURE_SKEW_MS)
    return { ok: false, reason: 'device-signature-stale' };
  if (!device.nonce) return { ok: false, reason: 'device-nonce-missing' };
  if (!sameSecret(device.nonce, challengeNonce)) return { ok: false, reason: 'device-nonce-mismatch' };
  const signature = Buffer.from(device.signature, 'base64url');
  const tokens = [...new Set([...fields.tokens.filter((t): t is string => Boolean(t)), ''])];
  for (const version of ['v3', 'v2'] as const) {
    for (const token of tokens) {
      const payload = devicePayload(version, device.id, fields, device.signedAt, token, device.nonce);
      if (verify(null, Buffer.from(payload, 'utf8'), key, signature)) return { ok: true };
    }
  }
  return { ok: false, reason: 'device-signature' };
}

/** Constant-time comparison: both sides are hashed first, so neither length nor content leaks. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
