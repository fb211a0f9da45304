// Validators whose compiled code is kept on disk (config/ajv-cache.ts): a cached validator must
// behave exactly like a freshly compiled one, and a changed or broken cache must never be used.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedValidator, type ValidatorSpec } from '../../config/ajv-cache.js';

const ref = {
  $id: 'https://example.test/ref.json',
  $defs: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
};
const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', format: 'uri' },
    port: { $ref: 'https://example.test/ref.json#/$defs/port' },
    mode: { enum: ['a', 'b'], default: 'a' },
  },
};
const spec: ValidatorSpec = {
  options: { allErrors: true, useDefaults: true, verbose: true },
  formats: ['uri'],
  refs: [ref],
};

describe('cached validators', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-ajv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const check = (validate: ReturnType<typeof cachedValidator>) => {
    const good: Record<string, unknown> = { url: 'https://x.test/a', port: 8080 };
    expect(validate(good)).toBe(true);
    expect(good.mode).toBe('a'); // defaults filled in
    expect(validate({ url: 'not a uri', port: 0, extra: 1 })).toBe(false);
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort();
    expect(errors).toEqual([' additionalProperties', '/port minimum', '/url format']);
    // verbose: errors carry the schema they broke, which the config's messages quote.
    expect(validate.errors?.find((e) => e.keyword === 'minimum')?.schema).toBe(1);
  };

  it('compiles once, stores the code, and later loads it with the same behaviour', () => {
    check(cachedValidator(spec, schema, dir));
    expect(readdirSync(dir).filter((f) => f.endsWith('.cjs'))).toHaveLength(1);
    check(cachedValidator(spec, schema, dir));
    expect(readdirSync(dir).filter((f) => f.endsWith('.cjs'))).toHaveLength(1);
  });

  it('compiles a changed schema or changed options afresh instead of using the old code', () => {
    cachedValidator(spec, schema, dir);
    const stricter = { ...schema, required: ['url'] };
    const validate = cachedValidator(spec, stricter, dir);
    expect(validate({ port: 80 })).toBe(false);
    const lenient = cachedValidator({ ...spec, options: { ...spec.options, allErrors: false } }, schema, dir);
    lenient({ url: 'not a uri', port: 0 });
    expect(lenient.errors).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.cjs'))).toHaveLength(3);
  });

  it('compiles again over a cache file that is broken or not a validator, and works without a cache', () => {
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.cjs'));
    cachedValidator(spec, schema, dir);
    const [notAValidator] = files();
    writeFileSync(join(dir, notAValidator!), 'module.exports = 42;');
    check(cachedValidator(spec, schema, dir));
    expect(readFileSync(join(dir, notAValidator!), 'utf8')).toContain('validate');

    const other = { ...schema, title: 'other' };
    cachedValidator(spec, other, dir);
    const broken = files().find((f) => f !== notAValidator);
    writeFileSync(join(dir, broken!), 'throw new Error("half a file")');
    check(cachedValidator(spec, other, dir));

    // A cache directory that cannot be created (a file is in the way): validators still work.
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, '');
    check(cachedValidator(spec, schema, join(blocked, 'ajv')));
  });
});
