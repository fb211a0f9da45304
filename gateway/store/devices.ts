// Paired devices and their tokens, in the gateway's SQLite database. A device is identified by
// the sha256 of its Ed25519 public key; it is `pending` until approved (loopback devices are
// approved on first sight), `approved`, or `revoked`. Device tokens are stored hashed.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';

export type DeviceStatus = 'pending' | 'approved' | 'revoked';

export interface DeviceRecord {
  deviceId: string;
  publicKey: string;
  status: DeviceStatus;
  requestId: string;
  role: string;
  scopes: string[];
  clientId: string;
  clientMode: string;
  platform: string;
  deviceFamily: string | null;
  remoteAddress: string;
  createdAt: number;
  updatedAt: number;
  approvedAt: number | null;
}

export interface DeviceSighting {
  deviceId: string;
  publicKey: string;
  role: string;
  scopes: string[];
  clientId: string;
  clientMode: string;
  platform: string;
  deviceFamily?: string;
  remoteAddress: string;
}

interface DeviceRow {
  device_id: string;
  public_key: string;
  status: DeviceStatus;
  request_id: string;
  role: string;
  scopes: string;
  client_id: string;
  client_mode: string;
  platform: string;
  device_family: string | null;
  remote_address: string;
  created_at: number;
  updated_at: number;
  approved_at: number | null;
}

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id,
    publicKey: row.public_key,
    status: row.status,
    requestId: row.request_id,
    role: row.role,
    scopes: JSON.parse(row.scopes) as string[],
    clientId: row.client_id,
    clientMode: row.client_mode,
    platform: row.platform,
    deviceFamily: row.device_family,
    remoteAddress: row.remote_address,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    approvedAt: row.approved_at,
  };
}

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export class DeviceStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS openclaw_devices (
        device_id TEXT PRIMARY KEY,
        public_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
        request_id TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        scopes TEXT NOT NULL,
        client_id TEXT NOT NULL,
        client_mode TEXT NOT NULL,
        platform TEXT NOT NULL,
        device_family TEXT,
        remote_address TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        approved_at INTEGER
      );
      CREATE TABLE IF NOT EXISTS openclaw_device_tokens (
        device_id TEXT NOT NULL REFERENCES openclaw_devices(device_id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        token_hash BLOB NOT NULL,
        scopes TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        PRIMARY KEY (device_id, role)
      );
    `);
  }

  get(deviceId: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM openclaw_devices WHERE device_id = ?').get(deviceId) as
      | DeviceRow
      | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Looks a device up by its id, a unique prefix of the id, or its pairing request id. */
  find(idOrRequestId: string): DeviceRecord | undefined {
    const exact = this.db
      .prepare('SELECT * FROM openclaw_devices WHERE device_id = ? OR request_id = ?')
      .get(idOrRequestId, idOrRequestId) as DeviceRow | undefined;
    if (exact) return toRecord(exact);
    if (idOrRequestId.length < 6) return undefined;
    const rows = this.db
      .prepare("SELECT * FROM openclaw_devices WHERE device_id LIKE ? || '%'")
      .all(idOrRequestId) as DeviceRow[];
    return rows.length === 1 && rows[0] ? toRecord(rows[0]) : undefined;
  }

  list(status?: DeviceStatus): DeviceRecord[] {
    const rows = (
      status
        ? this.db
            .prepare('SELECT * FROM openclaw_devices WHERE status = ? ORDER BY updated_at DESC')
            .all(status)
        : this.db.prepare('SELECT * FROM openclaw_devices ORDER BY updated_at DESC').all()
    ) as DeviceRow[];
    return rows.map(toRecord);
  }

  /** Records a device asking to pair (or refreshes its request); returns the stored record. */
  requestPairing(seen: DeviceSighting): DeviceRecord {
    const now = this.now();
    const existing = this.get(seen.deviceId);
    if (existing && existing.status !== 'revoked') {
      this.db
        .prepare(
          `UPDATE openclaw_devices SET role = ?, scopes = ?, client_id = ?, client_mode = ?, platform = ?,
             device_family = ?, remote_address = ?, updated_at = ? WHERE device_id = ?`,
        )
        .run(
          existing.status === 'approved' ? existing.role : seen.role,
          JSON.stringify(existing.status === 'approved' ? existing.scopes : seen.scopes),
          seen.clientId,
          seen.clientMode,
          seen.platform,
          seen.deviceFamily ?? null,
          seen.remoteAddress,
          now,
          seen.deviceId,
        );
    } else {
      this.db
        .prepare(
          `INSERT INTO openclaw_devices (device_id, public_key, status, request_id, role, scopes, client_id,
             client_mode, platform, device_family, remote_address, created_at, updated_at, approved_at)
           VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
           ON CONFLICT(device_id) DO UPDATE SET status = 'pending', request_id = excluded.request_id,
             role = excluded.role, scopes = excluded.scopes, client_id = excluded.client_id,
             client_mode = excluded.client_mode, platform = excluded.platform,
             device_family = excluded.device_family, remote_address = excluded.remote_address,
             updated_at = excluded.updated_at, approved_at = NULL`,
        )
        .run(
          seen.deviceId,
          seen.publicKey,
          randomUUID(),
          seen.role,
          JSON.stringify(seen.scopes),
          seen.clientId,
          seen.clientMode,
          seen.platform,
          seen.deviceFamily ?? null,
          seen.remoteAddress,
          now,
          now,
        );
    }
    return this.get(seen.deviceId)!;
  }

  /** Approves a pending (or re-approves a revoked) device with the role and scopes it asked for, or wider ones. */
  approve(idOrRequestId: string, grant: { role?: string; scopes?: string[] } = {}): DeviceRecord | undefined {
    const device = this.find(idOrRequestId);
    if (!device) return undefined;
    const scopes = [...new Set([...(grant.scopes ?? []), ...device.scopes])];
    const now = this.now();
    this.db
      .prepare(
        "UPDATE openclaw_devices SET status = 'approved', role = ?, scopes = ?, approved_at = ?, updated_at = ? WHERE device_id = ?",
      )
      .run(grant.role ?? device.role, JSON.stringify(scopes), now, now, device.deviceId);
    return this.get(device.deviceId);
  }

  /** Revokes a device: its tokens stop working and it must pair again. */
  revoke(idOrRequestId: string): DeviceRecord | undefined {
    const device = this.find(idOrRequestId);
    if (!device) return undefined;
    this.db.prepare('DELETE FROM openclaw_device_tokens WHERE device_id = ?').run(device.deviceId);
    this.db
      .prepare("UPDATE openclaw_devices SET status = 'revoked', updated_at = ? WHERE device_id = ?")
      .run(this.now(), device.deviceId);
    return this.get(device.deviceId);
  }

  /** Issues (and replaces) the device token for one role. */
  issueToken(
    deviceId: string,
    role: string,
    scopes: readonly string[],
  ): { token: string; issuedAtMs: number } {
    const token = randomBytes(32).toString('base64url');
    const issuedAtMs = this.now();
    this.db
      .prepare(
        `INSERT INTO openclaw_device_tokens (device_id, role, token_hash, scopes, issued_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(device_id, role) DO UPDATE SET token_hash = excluded.token_hash, scopes = excluded.scopes,
           issued_at = excluded.issued_at`,
      )
      .run(deviceId, role, hashToken(token), JSON.stringify(scopes), issuedAtMs);
    return { token, issuedAtMs };
  }

  /** Checks a device token in constant time; returns the scopes it was issued with. */
  verifyToken(
    deviceId: string,
    role: string,
    token: string,
  ): { scopes: string[]; issuedAtMs: number } | undefined {
    const row = this.db
      .prepare(
        'SELECT token_hash, scopes, issued_at FROM openclaw_device_tokens WHERE device_id = ? AND role = ?',
      )
      .get(deviceId, role) as { token_hash: Buffer; scopes: string; issued_at: number } | undefined;
    if (!row || !timingSafeEqual(row.token_hash, hashToken(token))) return undefined;
    return { scopes: JSON.parse(row.scopes) as string[], issuedAtMs: row.issued_at };
  }
}
