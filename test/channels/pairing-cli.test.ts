import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerPairingCommands } from '../../cli/commands/pairing.js';
import { openDb } from '../../gateway/store/db.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { tempDir } from './fixtures.js';

/** Runs `switchyard <args>` against a real database file and captures what it prints. */
function cli() {
  const path = join(tempDir(), 'gateway.sqlite');
  const withStore = <T>(fn: (store: PairingStore) => T): T => {
    const db = openDb(path);
    try {
      return fn(new PairingStore(db));
    } finally {
      db.close();
    }
  };
  const run = (...args: string[]) => {
    let out = '';
    let err = '';
    const program = new Command('switchyard')
      .exitOverride()
      .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
    registerPairingCommands(program, { openDb: () => openDb(path) });
    try {
      program.parse(args, { from: 'user' });
      return { out, err, exitCode: 0 };
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      return { out, err, exitCode: error.exitCode };
    }
  };
  return { run, withStore };
}

const stranger = { channel: 'telegram', accountId: 'default', senderId: '1001', senderName: 'Alice' };

describe('switchyard pairing / allowlist', () => {
  it('pairing list shows waiting codes', () => {
    const { run, withStore } = cli();
    const issued = withStore((s) => s.requestPairing(stranger));
    if (issued.kind !== 'issued') throw new Error('expected a code');
    const { out, exitCode } = run('pairing', 'list', 'telegram');
    expect(exitCode).toBe(0);
    expect(out).toMatch(/^CHANNEL\s+CODE\s+SENDER\s+NAME\s+EXPIRES\n/);
    expect(out).toMatch(new RegExp(`telegram\\s+${issued.code}\\s+1001\\s+Alice\\s+in (59|60) min`));
  });

  it('pairing approve allowlists the sender', () => {
    const { run, withStore } = cli();
    const issued = withStore((s) => s.requestPairing(stranger));
    if (issued.kind !== 'issued') throw new Error('expected a code');
    expect(run('pairing', 'approve', 'telegram', issued.code)).toEqual({
      out: 'Approved Alice (1001) on telegram. Their next message will be answered.\n',
      err: '',
      exitCode: 0,
    });
    expect(withStore((s) => s.isAllowed('telegram', '1001'))).toBe(true);
  });

  it('pairing approve with an unknown code fails with a message saying what to do', () => {
    const { run } = cli();
    const { err, exitCode } = run('pairing', 'approve', 'telegram', 'ABCDEFGH');
    expect(exitCode).toBe(1);
    expect(err).toContain('No pairing request with code ABCDEFGH on channel "telegram"');
    expect(err).toContain('switchyard pairing list telegram');
  });

  it('pairing deny drops the request', () => {
    const { run, withStore } = cli();
    const issued = withStore((s) => s.requestPairing(stranger));
    if (issued.kind !== 'issued') throw new Error('expected a code');
    expect(run('pairing', 'deny', 'telegram', issued.code).out).toBe(
      `Denied pairing code ${issued.code} from Alice (1001) on telegram.\n`,
    );
    expect(run('pairing', 'list').out).toBe('No pairing requests waiting.\n');
  });

  it('allowlist add, list and remove', () => {
    const { run } = cli();
    expect(run('allowlist', 'add', 'telegram', '2002', '--name', 'Bob').out).toBe(
      'Allowed 2002 on telegram.\n',
    );
    expect(run('allowlist', 'list', 'telegram').out).toMatch(/telegram\s+2002\s+Bob\s+cli\s+\d{4}-/);
    expect(run('allowlist', 'remove', 'telegram', '2002').out).toBe(
      'Removed 2002 from the telegram allowlist.\n',
    );
    const missing = run('allowlist', 'remove', 'telegram', '2002');
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain('2002 is not on the telegram allowlist');
  });

  it('list --json prints machine-readable output', () => {
    const { run } = cli();
    run('allowlist', 'add', 'telegram', '2002');
    expect(JSON.parse(run('allowlist', 'list', '--json').out)).toMatchObject([
      { channel: 'telegram', senderId: '2002', source: 'cli' },
    ]);
  });
});
