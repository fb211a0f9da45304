import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config/config.js';
import { EncryptionCodec } from './codec.js';
import { type KeyRing, type KeyRingOptions, loadKeyRing } from './encryption-keys.js';

const rings = new WeakMap<Config, KeyRing>();

/** The key ring of a config, read once per Config object (a reload that changes keys needs a restart). */
export function keyRingOf(config: Config, options?: KeyRingOptions): KeyRing {
  let ring = rings.get(config);
  if (!ring) {
    ring = loadKeyRing(config, options);
    rings.set(config, ring);
  }
  return ring;
}

/**
 * What every Temporal client and worker of Switchyard passes as `dataConverter`: the encryption
 * codec. With encryption off it still decrypts history written while it was on.
 */
export function dataConverterOf(config: Config, options?: KeyRingOptions): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keyRingOf(config, options))] };
}
