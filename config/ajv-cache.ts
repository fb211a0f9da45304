// JSON Schema validators whose compiled code is kept on disk. Compiling the config's and the
// channels' schemas with Ajv cost ~280 ms of CPU at the start of every process and every CLI
// command (issue 13). The first compile of a schema writes Ajv's standalone code (its own
// feature, ajv/dist/standalone) to <cache dir>/<key>.cjs; later starts require() that file,
// which takes a few milliseconds. The key is a digest of everything the code depends on: the
// schema, the schemas it may refer to, the options, the formats and Ajv's version, so an edited
// schema is compiled afresh. A cache that cannot be read or written only costs the compile.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type AnySchema, type Options, type ValidateFunction } from 'ajv';
// CommonJS: under NodeNext its default import is the module object.
import standalone from 'ajv/dist/standalone/index.js';
import formats, { type FormatName } from 'ajv-formats';
import { projectRoot } from './home.js';

export interface ValidatorSpec {
  /** Ajv options (the validator's behaviour: allErrors, useDefaults, verbose, strict…). */
  options: Options;
  /** Schemas the compiled one refers to by `$id` (added to the Ajv instance first). */
  refs?: readonly AnySchema[];
  /** ajv-formats formats to add. */
  formats?: readonly FormatName[];
}

const require = createRequire(import.meta.url);
const AJV_VERSION = (require('ajv/package.json') as { version: string }).version;

/** Where compiled validators are kept: node_modules/.cache, as build tools do. */
export function defaultValidatorCacheDir(): string {
  return join(projectRoot(), 'node_modules', '.cache', 'switchyard', 'ajv');
}

const instances = new Map<string, Ajv>();

/** A validator for `schema`, loaded from the cache when its code is there, compiled (and stored) otherwise. */
export function cachedValidator(
  spec: ValidatorSpec,
  schema: AnySchema,
  cacheDir: string = defaultValidatorCacheDir(),
): ValidateFunction {
  const specJson = JSON.stringify({
    options: spec.options,
    refs: spec.refs ?? [],
    formats: spec.formats ?? [],
  });
  const key = createHash('sha256')
    .update(`${AJV_VERSION}\n${specJson}\n${JSON.stringify(schema)}`)
    .digest('hex')
    .slice(0, 32);
  const file = join(cacheDir, `${key}.cjs`);
  const cached = load(file);
  if (cached) return cached;
  const ajv = instanceFor(specJson, spec);
  const validate = ajv.compile(schema);
  store(file, standalone.default(ajv, validate));
  return validate;
}

function load(file: string): ValidateFunction | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const loaded = require(file) as { default?: unknown };
    return typeof loaded.default === 'function' ? (loaded.default as ValidateFunction) : undefined;
  } catch {
    return undefined; // absent, unreadable or corrupt: compile again (and overwrite it)
  }
}

function store(file: string, code: string): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    // Written whole, then renamed: a process starting beside this one never reads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  } catch {
    // A read-only install: validators are compiled at each start, as before.
  }
}

function instanceFor(specJson: string, spec: ValidatorSpec): Ajv {
  let ajv = instances.get(specJson);
  if (!ajv) {
    ajv = new Ajv({ ...spec.options, code: { ...spec.options.code, source: true } });
    // ajv-formats is CommonJS: under NodeNext its default import is the module object.
    if (spec.formats?.length) formats.default(ajv, [...spec.formats]);
    for (const ref of spec.refs ?? []) ajv.addSchema(ref);
    instances.set(specJson, ajv);
  }
  return ajv;
}
