/**
 * The rules of the house, enforced: who may import whom (docs/architecture.md has the same table).
 * Imports are read as text from every source file outside test/ and bench/; a value import
 * (anything that survives compilation) and a type-only import (`import type`, or every name
 * marked `type`) are checked against separate allowances, because only values reach the
 * Temporal workflow sandbox.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A part of the house: a folder, or the contract files (`*-api.ts`) of workflows/. */
type Part =
  | 'workflows'
  | 'workflow-api'
  | 'workflow-runtime'
  | 'engine'
  | 'engine-runtime'
  | 'activities'
  | 'channels'
  | 'client'
  | 'gateway'
  | 'worker'
  | 'temporal'
  | 'config'
  | 'cli'
  | 'schemas'
  | 'skills'
  | 'media'
  | 'memory';

/** engine/ files that workflows/ may import inside the sandbox (they import only cel-js and engine types). */
const ENGINE_RUNTIME = new Set([
  'engine/expr.ts',
  'engine/duration.ts',
  'engine/ir.ts',
  'engine/failures.ts',
  'engine/records.ts',
]);
/** Pure channels/ files that workflows/ may import: the live-output run key, the direct-message envelope. */
const CHANNELS_IN_SANDBOX = new Set(['channels/run-key.ts', 'channels/direct-message.ts']);
/** What the gateway hosts or reads from activities/: the channel-send activity, the live-delta frames, the agent's model config. */
const GATEWAY_FROM_ACTIVITIES = new Set([
  'activities/channel-send.ts',
  'activities/stream/frames.ts',
  'activities/agent/config.ts',
  'activities/agent/models.ts',
  // onboarding's test call of a provider, before the config names it
  'activities/agent/probe.ts',
]);

function partOf(file: string): Part | undefined {
  const top = file.split('/')[0];
  if (top === 'workflows') return /-api\.ts$/.test(file) ? 'workflow-api' : 'workflows';
  if (top === 'engine') return ENGINE_RUNTIME.has(file) ? 'engine-runtime' : 'engine';
  const parts: Part[] = [
    'activities',
    'channels',
    'client',
    'gateway',
    'worker',
    'temporal',
    'config',
    'cli',
    'schemas',
    'skills',
    'media',
    'memory',
  ];
  return parts.find((p) => p === top);
}

const ALL: Part[] = [
  'workflows',
  'workflow-api',
  'engine',
  'engine-runtime',
  'activities',
  'channels',
  'client',
  'gateway',
  'worker',
  'temporal',
  'config',
  'cli',
  'schemas',
  'skills',
  'media',
  'memory',
];
const LOWER: Part[] = ['engine', 'engine-runtime', 'config', 'channels', 'schemas', 'workflow-api'];

/**
 * Value imports allowed per importing part (its own part is always allowed). `packages`
 * lists the npm packages a part may use; `true` = any package and Node built-ins.
 */
const RULES: Record<
  Exclude<Part, 'workflow-runtime'>,
  { values: Part[]; types: Part[]; packages: string[] | true }
> = {
  engine: {
    values: ['engine-runtime', 'schemas'],
    types: [],
    packages: ['yaml', 'ajv', 'ajv-formats', '@marcbachmann/cel-js'],
  },
  'engine-runtime': { values: [], types: ['engine'], packages: ['@marcbachmann/cel-js'] },
  workflows: {
    values: ['workflow-api', 'engine-runtime'],
    types: ['activities', 'channels', 'config', 'engine'],
    packages: [
      '@temporalio/workflow',
      '@temporalio/common',
      '@mariozechner/pi-agent-core',
      '@mariozechner/pi-ai',
      '@switchyard/pi-ai-event-stream',
      '@switchyard/pi-ai-validation',
    ],
  },
  'workflow-api': {
    values: ['engine-runtime'],
    types: ['activities', 'channels', 'config', 'engine', 'workflows'],
    packages: ['@temporalio/workflow', '@temporalio/common', '@mariozechner/pi-ai'],
  },
  config: { values: ['channels', 'engine', 'engine-runtime', 'schemas'], types: [], packages: true },
  channels: {
    values: ['engine', 'engine-runtime', 'config', 'schemas', 'workflow-api'],
    types: ['activities'],
    packages: true,
  },
  temporal: { values: ['config'], types: [], packages: true },
  client: { values: [...LOWER, 'temporal'], types: ['activities'], packages: true },
  activities: {
    values: [...LOWER, 'client', 'temporal', 'media', 'memory', 'skills'],
    types: ['workflows'],
    packages: true,
  },
  skills: { values: [...LOWER], types: [], packages: true },
  gateway: {
    values: [...LOWER, 'client', 'temporal', 'activities', 'media'],
    types: ['activities'],
    packages: true,
  },
  // The blob store and the conversions: plain Node code the activities, gateway, worker and CLI share.
  media: { values: ['engine-runtime', 'config', 'channels', 'schemas'], types: [], packages: true },
  // The memory store, its backends and embedders: plain Node code the activities and the CLI share.
  memory: { values: ['engine-runtime', 'config', 'schemas'], types: [], packages: true },
  worker: {
    values: [...LOWER, 'client', 'temporal', 'activities', 'skills', 'media', 'memory'],
    types: ['workflows'],
    packages: true,
  },
  cli: { values: ALL, types: ALL, packages: true },
  schemas: { values: [], types: [], packages: [] },
};

interface Import {
  from: string;
  specifier: string;
  typeOnly: boolean;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*['"]([^'"]+)['"]/g;
const BARE = /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const clause = m[3] ?? '';
    const names = /^\{([\s\S]*)\}$/.exec(clause.trim())?.[1];
    const allTyped =
      names
        ?.split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type ')) === true;
    found.push({ from: file, specifier: m[4] ?? '', typeOnly: Boolean(m[2]) || allTyped });
  }
  for (const m of text.matchAll(BARE)) found.push({ from: file, specifier: m[1] ?? '', typeOnly: false });
  for (const m of text.matchAll(DYNAMIC)) found.push({ from: file, specifier: m[1] ?? '', typeOnly: false });
  return found;
}

/** The repository file an import names (relative specifiers only), with `.js` mapped back to `.ts`. */
function targetOf(imp: Import): string | undefined {
  if (!imp.specifier.startsWith('.')) return undefined;
  const joined = posix.normalize(posix.join(posix.dirname(imp.from), imp.specifier));
  return joined.replace(/\.js$/, '.ts');
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Every broken rule, one line each: `file: imports X (why not)`. */
function violations(files: { file: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { file, text } of files) {
    const part = partOf(file);
    if (!part || part === 'workflow-runtime') continue;
    const rule = RULES[part];
    for (const imp of importsOf(file, text)) {
      const target = targetOf(imp);
      if (target === undefined) {
        const isNode = imp.specifier.startsWith('node:') || builtinModules.includes(imp.specifier);
        if (imp.typeOnly || rule.packages === true) continue;
        if (isNode || !rule.packages.includes(packageOf(imp.specifier))) {
          out.push(
            `${file}: imports '${imp.specifier}' (${part} may use only ${rule.packages.join(', ') || 'no packages'})`,
          );
        }
        continue;
      }
      const to = partOf(target);
      if (!to) {
        out.push(`${file}: imports ${target}, outside the parts of the house`);
        continue;
      }
      if (to === part) continue;
      if (to === 'workflows' && part === 'workflow-api') continue;
      if (part === 'workflows' && to === 'workflow-api') continue;
      if (part === 'workflows' && !imp.typeOnly && CHANNELS_IN_SANDBOX.has(target)) continue;
      if (part === 'engine' && to === 'engine-runtime') continue;
      if (part === 'engine-runtime' && to === 'engine' && imp.typeOnly) continue;
      if (
        part === 'gateway' &&
        to === 'activities' &&
        !imp.typeOnly &&
        !GATEWAY_FROM_ACTIVITIES.has(target)
      ) {
        out.push(
          `${file}: imports ${target} (the gateway hosts only ${[...GATEWAY_FROM_ACTIVITIES].join(', ')} from activities/)`,
        );
        continue;
      }
      const allowed = rule.values.includes(to) || (imp.typeOnly && rule.types.includes(to));
      if (!allowed) {
        const kind = imp.typeOnly ? 'a type from' : 'a value from';
        out.push(`${file}: imports ${kind} ${target} (${part} may not import ${to})`);
      }
    }
  }
  return out;
}

function sourceFiles(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        out.push({ file: path, text: readFileSync(join(root, path), 'utf8') });
      }
    }
  };
  for (const top of readdirSync(root, { withFileTypes: true })) {
    if (top.isDirectory() && partOf(`${top.name}/x.ts`)) walk(top.name);
  }
  return out;
}

describe('the house', () => {
  const files = sourceFiles();

  it('reads every part of the house', () => {
    const parts = new Set(files.map((f) => partOf(f.file)));
    for (const p of [
      'workflows',
      'workflow-api',
      'engine',
      'activities',
      'channels',
      'client',
      'gateway',
      'worker',
    ] as const) {
      expect(parts, p).toContain(p);
    }
    expect(files.length).toBeGreaterThan(150);
  });

  it('every import follows the table of who may import whom', () => {
    expect(violations(files)).toEqual([]);
  });

  it('catches a deliberately wrong import (the worker reaching into the gateway, a workflow into Node)', () => {
    const wrong = [
      { file: 'worker/worker.ts', text: "import { startGateway } from '../gateway/server.js';" },
      { file: 'workflows/session/session.ts', text: "import { readFileSync } from 'node:fs';" },
      {
        file: 'workflows/pipeline/pipeline.ts',
        text: "import { noUsage } from '../../activities/agent/index.js';",
      },
      { file: 'client/sessions.ts', text: "import type { Outbox } from '../gateway/store/outbox.js';" },
      { file: 'engine/compile.ts', text: "import { sessionWorkflowId } from '../channels/session-key.js';" },
      { file: 'activities/echo.ts', text: "import {\n  x,\n  y,\n} from '../gateway/auth.js';" },
    ];
    expect(violations(wrong)).toHaveLength(wrong.length);
  });

  it('lets a workflow import types, but not values, from activities/', () => {
    const text =
      "import type { EchoActivities } from '../activities/echo.js';\nimport { type A, type B } from '../activities/echo.js';";
    expect(violations([{ file: 'workflows/echo.ts', text }])).toEqual([]);
    expect(
      violations([{ file: 'workflows/echo.ts', text: "import { type A, b } from '../activities/echo.js';" }]),
    ).toHaveLength(1);
  });

  it('docs/architecture.md names every top-level folder of source', () => {
    const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
    const tops = new Set(files.map((f) => f.file.split('/')[0]));
    for (const top of tops) expect(doc, top).toContain(`\`${top}/\``);
  });
});
