// The linked device's credentials and Signal keys, kept as files in the account's folder under
// the data directory (<data dir>/whatsapp/<account>/): the folder 0700, every file 0600, written
// to a temporary file and renamed so a crash never leaves half a key. Whoever holds these files
// can read and send the account's messages, so nothing else may read them.
import { chmod, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
} from 'baileys';

export interface WhatsAppAuth {
  state: AuthenticationState;
  /** Writes creds.json (baileys asks after every change: `creds.update`). */
  saveCreds(): Promise<void>;
  /** The account is linked: the credentials name a phone (creds.me.id). */
  isLinked(): boolean;
}

const CREDS = 'creds.json';

/** Opens (or creates) the account folder and reads its credentials; fresh ones when there are none. */
export async function openAuthState(dir: string): Promise<WhatsAppAuth> {
  await ensurePrivateDir(dir);
  const creds = ((await readJson(dir, CREDS)) as AuthenticationCreds | undefined) ?? initAuthCreds();
  const writes = new Map<string, Promise<void>>();
  // One write at a time per file, in order: baileys fires key updates concurrently.
  const queue = (file: string, job: () => Promise<void>) => {
    const next = (writes.get(file) ?? Promise.resolve()).then(job, job);
    writes.set(file, next);
    void next.finally(() => {
      if (writes.get(file) === next) writes.delete(file);
    });
    return next;
  };
  return {
    state: {
      creds,
      keys: {
        async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
          const out: { [id: string]: SignalDataTypeMap[T] } = {};
          await Promise.all(
            ids.map(async (id) => {
              await writes.get(keyFile(type, id));
              let value = await readJson(dir, keyFile(type, id));
              if (type === 'app-state-sync-key' && value) {
                value = proto.Message.AppStateSyncKeyData.fromObject(value);
              }
              if (value !== undefined) out[id] = value as SignalDataTypeMap[T];
            }),
          );
          return out;
        },
        async set(data: SignalDataSet) {
          const jobs: Promise<void>[] = [];
          for (const [type, entries] of Object.entries(data)) {
            for (const [id, value] of Object.entries(entries ?? {})) {
              const file = keyFile(type, id);
              jobs.push(queue(file, () => (value ? writePrivate(dir, file, value) : removeFile(dir, file))));
            }
          }
          await Promise.all(jobs);
        },
      },
    },
    saveCreds: () => queue(CREDS, () => writePrivate(dir, CREDS, creds)),
    isLinked: () => typeof creds.me?.id === 'string' && creds.me.id !== '',
  };
}

/** True when the folder holds linked credentials (without opening a socket). */
export async function hasLinkedCreds(dir: string): Promise<boolean> {
  const creds = (await readJson(dir, CREDS)) as AuthenticationCreds | undefined;
  return typeof creds?.me?.id === 'string' && creds.me.id !== '';
}

/** Forget the link (after WhatsApp logged the device out): the next start needs a new QR scan. */
export async function clearAuthState(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.map((name) => rm(join(dir, name), { force: true, recursive: true })));
}

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a directory (WhatsApp credentials go there)`);
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

function keyFile(type: string, id: string): string {
  return `${type}-${id}.json`.replace(/\//g, '__').replace(/:/g, '-');
}

async function readJson(dir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text, BufferJSON.reviver);
  } catch {
    throw new Error(`${join(dir, file)} is not valid JSON; remove the folder and link the account again`);
  }
}

async function writePrivate(dir: string, file: string, value: unknown): Promise<void> {
  const path = join(dir, file);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(value, BufferJSON.replacer), { mode: 0o600 });
  await rename(temp, path);
}

async function removeFile(dir: string, file: string): Promise<void> {
  await unlink(join(dir, file)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
