// The payload codec: every payload a Switchyard client or worker sends to Temporal (workflow and
// activity inputs and results, signals, queries, updates, memos) is encrypted with AES-256-GCM
// before it leaves the process, so message text, transcripts and model output are ciphertext in
// Temporal's database and in exported histories. Search attributes and workflow ids are not
// payloads and stay readable (Switchyard puts no message text there).
//
// An encrypted payload: metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`;
// data = 12-byte IV ‖ ciphertext ‖ 16-byte tag, the plaintext being the original Payload
// (protobuf) and the additional data the key id. Payloads without that encoding (history written
// before encryption was on, or with it off) are passed through unchanged.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { KeyRing } from './encryption-keys.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
// CommonJS: its named exports are not visible to Node's ESM loader.
const { Payload: PayloadProto } = proto.temporal.api.common.v1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A payload that cannot be decrypted here: which key it needs, and what to do. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const active = this.keys.active;
    if (!active) return payloads;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', active.key, iv);
      cipher.setAAD(Buffer.from(active.id));
      const plain = PayloadProto.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: encoder.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: encoder.encode(active.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? decoder.decode(idBytes) : '';
      const key = this.keys.byId.get(id);
      if (!key) {
        throw new PayloadDecryptionError(
          `a payload is encrypted with key "${id}", which this process does not have ` +
            `(known: ${[...this.keys.byId.keys()].join(', ') || 'none'}): give every Switchyard process ` +
            'the same <data dir>/encryption.keys, or the key in SWITCHYARD_ENCRYPTION_KEYS (docs/encryption.md)',
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptionError('an encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new PayloadDecryptionError(
          `a payload encrypted with key "${id}" failed authentication (altered or wrong key)`,
        );
      }
      const inner = PayloadProto.decode(plain);
      return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() };
    });
  }
}
