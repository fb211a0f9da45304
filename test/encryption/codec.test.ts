// The payload codec and its keys, without a server: what is encrypted, what passes through, what
// a process without the key says, rotation, and how the key file comes to be.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/errors.js';
import { projectRoot } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../../temporal/codec.js';
import {
  EncryptionKeyError,
  keyFileOf,
  loadKeyRing,
  newKeyLine,
  rotateKeyFile,
} from '../../temporal/encryption-keys.js';

const home = (yaml?: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-codec-'));
  if (yaml) writeFileSync(join(dir, 'switchyard.yaml'), yaml);
  return dir;
};
const text = (p: Payload) => Buffer.from(p.data ?? new Uint8Array()).toString('latin1');
const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value);

describe('the payload codec', () => {
  it('encrypts every payload so the text is gone, and decrypts it back to the same payload', async () => {
    const ring = loadKeyRing(loadConfig({ home: home(), env: {} }), { env: {} });
    const codec = new EncryptionCodec(ring);
    const original = [toPayload({ text: 'meet me at the lighthouse at 9' }), toPayload(null)];
    const encoded = await codec.encode(original);
    for (const p of encoded) {
      expect(Buffer.from(p.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(p.metadata![KEY_ID_METADATA]!).toString()).toBe(ring.active!.id);
      expect(text(p)).not.toContain('lighthouse');
    }
    // A fresh IV each time: the same message never encrypts to the same bytes.
    const again = await codec.encode(original);
    expect(Buffer.from(again[0]!.data!).equals(Buffer.from(encoded[0]!.data!))).toBe(false);
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      { text: 'meet me at the lighthouse at 9' },
      null,
    ]);
  });

  it('passes through payloads written before encryption was on, and writes clear ones when off', async () => {
    const dir = home();
    const on = new EncryptionCodec(loadKeyRing(loadConfig({ home: dir, env: {} })));
    const plain = toPayload('written by an older version');
    expect(await on.decode([plain])).toEqual([plain]);

    const off = new EncryptionCodec(
      loadKeyRing(loadConfig({ home: dir, env: { SWITCHYARD_ENCRYPTION: 'off' } })),
    );
    expect(await off.encode([plain])).toEqual([plain]);
    // Off still reads what was encrypted while it was on (the key file stays).
    const [sealed] = await on.encode([plain]);
    expect(defaultPayloadConverter.fromPayload((await off.decode([sealed!]))[0]!)).toBe(
      'written by an older version',
    );
  });

  it('a process without the key says which key it needs and where keys come from; a tampered payload fails', async () => {
    const a = new EncryptionCodec(loadKeyRing(loadConfig({ home: home(), env: {} })));
    const b = new EncryptionCodec(loadKeyRing(loadConfig({ home: home(), env: {} })));
    const [sealed] = await a.encode([toPayload('hello')]);
    const id = Buffer.from(sealed!.metadata![KEY_ID_METADATA]!).toString();
    await expect(b.decode([sealed!])).rejects.toThrow(
      new RegExp(
        `encrypted with key "${id}", which this process does not have .*encryption\\.keys.*SWITCHYARD_ENCRYPTION_KEYS`,
      ),
    );
    const data = Buffer.from(sealed!.data!);
    data[data.length - 20]! ^= 1;
    await expect(a.decode([{ ...sealed!, data }])).rejects.toThrow(/failed authentication/);
  });

  it('after a rotation new payloads use the new key and old ones still decrypt', async () => {
    const dir = home();
    const before = new EncryptionCodec(loadKeyRing(loadConfig({ home: dir, env: {} })));
    const [old] = await before.encode([toPayload('before the rotation')]);
    const newId = rotateKeyFile(dir);
    const ring = loadKeyRing(loadConfig({ home: dir, env: {} }));
    expect(ring.active!.id).toBe(newId);
    expect(ring.byId.size).toBe(2);
    const after = new EncryptionCodec(ring);
    const [fresh] = await after.encode([toPayload('after')]);
    expect(Buffer.from(fresh!.metadata![KEY_ID_METADATA]!).toString()).toBe(newId);
    expect(defaultPayloadConverter.fromPayload((await after.decode([old!]))[0]!)).toBe('before the rotation');
  });
});

describe('where the keys come from', () => {
  it('a new data dir gets <data dir>/encryption.keys with mode 600 on first use, and keeps it', () => {
    const dir = home();
    const first = loadKeyRing(loadConfig({ home: dir, env: {} }));
    expect(statSync(keyFileOf(dir)).mode & 0o777).toBe(0o600);
    expect(loadKeyRing(loadConfig({ home: dir, env: {} })).active).toEqual(first.active);
    expect(first.source).toBe(keyFileOf(dir));
  });

  it('processes starting together in one data dir all end up with the same key', async () => {
    const dir = home();
    const script = [
      // The built code (npm run build), as the worker and gateway run it.
      `import { loadConfig } from ${JSON.stringify(join(projectRoot(), 'dist/config/load.js'))};`,
      `import { loadKeyRing } from ${JSON.stringify(join(projectRoot(), 'dist/temporal/encryption-keys.js'))};`,
      `console.log(loadKeyRing(loadConfig({ home: ${JSON.stringify(dir)}, env: {} })).active.key.toString('hex'));`,
    ].join('\n');
    const runs = Array.from(
      { length: 4 },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
          let out = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
          });
          child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
        }),
    );
    const keys = await Promise.all(runs);
    expect(new Set(keys).size).toBe(1);
    expect(readFileSync(keyFileOf(dir), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('SWITCHYARD_ENCRYPTION_KEYS or temporal.encryption.keys ({ env } / { secret }) take the place of the file', () => {
    const line = newKeyLine();
    const viaEnv = loadKeyRing(loadConfig({ home: home(), env: { SWITCHYARD_ENCRYPTION_KEYS: line } }));
    expect(viaEnv.active!.id).toBe(line.split(':')[0]);
    expect(viaEnv.source).toBe('temporal.encryption.keys');

    const dir = home('temporal:\n  encryption:\n    keys: { secret: codecKeys }\n');
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ codecKeys: `${line}\n${newKeyLine()}` }));
    const viaSecret = loadKeyRing(loadConfig({ home: dir, env: {} }));
    expect(viaSecret.active!.id).toBe(line.split(':')[0]);
    expect(viaSecret.byId.size).toBe(2);
    // A configured key means no file is made.
    expect(() => statSync(keyFileOf(dir))).toThrow();
  });

  it('a malformed key, or an unknown value of SWITCHYARD_ENCRYPTION, is refused with what to do', () => {
    expect(() =>
      loadKeyRing(loadConfig({ home: home(), env: { SWITCHYARD_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' } })),
    ).toThrow(EncryptionKeyError);
    expect(() =>
      loadKeyRing(loadConfig({ home: home(), env: { SWITCHYARD_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' } })),
    ).toThrow(/entry 1 is not <id>:<base64 of 32 bytes>.*switchyard encryption rotate/);
    expect(() => loadConfig({ home: home(), env: { SWITCHYARD_ENCRYPTION: 'maybe' } })).toThrow(ConfigError);
    expect(() => loadConfig({ home: home(), env: { SWITCHYARD_ENCRYPTION: 'maybe' } })).toThrow(
      /must be on or off, got "maybe"/,
    );
  });
});
