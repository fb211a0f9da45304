// `switchyard devices list|approve|revoke`: manage the devices that pair with the gateway
// (OpenClaw's iOS/Android/macOS apps, CLIs with a device identity).
import type { Database } from 'better-sqlite3';
import type { Command } from 'commander';
import { type DeviceRecord, type DeviceStatus, DeviceStore } from '../../gateway/store/devices.js';

export interface DeviceCommandsContext {
  /** Opens the gateway's SQLite database (the same file the running gateway uses). */
  openDatabase(): Database;
  print?: (line: string) => void;
}

function describe(d: DeviceRecord): string {
  const seen = new Date(d.updatedAt).toISOString();
  const who = [d.clientId, d.platform, d.deviceFamily].filter(Boolean).join('/');
  return `${d.deviceId.slice(0, 16)}  ${d.status.padEnd(8)}  ${d.role}  [${d.scopes.join(',')}]  ${who}  from ${d.remoteAddress}  request ${d.requestId}  last seen ${seen}`;
}

export function registerDeviceCommands(program: Command, ctx: DeviceCommandsContext): Command {
  const print = ctx.print ?? ((line: string) => console.log(line));
  const withStore = <T>(fn: (store: DeviceStore) => T): T => {
    const db = ctx.openDatabase();
    try {
      return fn(new DeviceStore(db));
    } finally {
      db.close();
    }
  };
  const devices = program
    .command('devices')
    .description('Devices paired with the gateway (OpenClaw apps and clients)');

  devices
    .command('list')
    .description('List paired and pending devices')
    .option('--status <status>', 'only pending, approved or revoked devices')
    .action((opts: { status?: string }) => {
      const status = opts.status as DeviceStatus | undefined;
      if (status && !['pending', 'approved', 'revoked'].includes(status)) {
        throw new Error(`--status must be pending, approved or revoked (got "${status}")`);
      }
      withStore((store) => {
        const list = store.list(status);
        if (list.length === 0) print(status ? `No ${status} devices.` : 'No devices have connected yet.');
        for (const d of list) print(describe(d));
      });
    });

  devices
    .command('approve <device>')
    .description('Approve a pending device (device id, unique id prefix, or pairing request id)')
    .option('--scopes <scopes>', 'comma-separated operator scopes to grant in addition to those requested')
    .action((device: string, opts: { scopes?: string }) => {
      withStore((store) => {
        const scopes = opts.scopes
          ? opts.scopes
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined;
        const approved = store.approve(device, scopes ? { scopes } : {});
        if (!approved)
          throw new Error(`No device matches "${device}". Run \`switchyard devices list\` to see ids.`);
        print(
          `Approved ${approved.deviceId} (${approved.role}: ${approved.scopes.join(', ')}). It can reconnect now.`,
        );
      });
    });

  devices
    .command('revoke <device>')
    .description('Revoke a device: its token stops working and it must pair again')
    .action((device: string) => {
      withStore((store) => {
        const revoked = store.revoke(device);
        if (!revoked)
          throw new Error(`No device matches "${device}". Run \`switchyard devices list\` to see ids.`);
        print(`Revoked ${revoked.deviceId}. Open connections end when they next reconnect.`);
      });
    });
  return devices;
}
