// The production path (docker-compose.yml + Dockerfile) cannot be run here: there is no Docker
// engine on these machines. What can be checked without one is the compose file itself, as the
// compose tool resolves it: `docker compose config` (the plugin) or `docker-compose config`
// (Debian's v1.29, which CI installs). A missing tool is a failure, never a skip.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../config/home.js';

const root = projectRoot();
const composeFile = join(root, 'docker-compose.yml');
const TOKEN = 'compose-test-token-0123456789abcdef';

const HOW_TO_INSTALL = [
  'Neither `docker compose` (the Compose plugin) nor `docker-compose` is installed, so docker-compose.yml cannot be checked.',
  'Install one of them (no Docker engine is needed for `config`):',
  '  Debian/Ubuntu:  sudo apt-get install -y docker-compose          (v1.29, what CI uses)',
  "  or the plugin:  sudo apt-get install -y docker-compose-plugin   (from Docker's apt repository)",
  '  or see https://docs.docker.com/compose/install/',
].join('\n');

/** `docker compose` when the plugin answers, else `docker-compose`, else a failure that says what to install. */
function composeCommand(): string[] {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (!plugin.error && plugin.status === 0) return ['docker', 'compose'];
  const standalone = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (!standalone.error && standalone.status === 0) return ['docker-compose'];
  throw new Error(HOW_TO_INSTALL);
}

/**
 * Runs `<compose> config` on the project's compose file with only the variables given here:
 * the caller's SWITCHYARD_*, TEMPORAL_*, POSTGRES_* and COMPOSE_* variables and any .env file
 * in the checkout are kept out, so the result is what a fresh machine would get.
 */
function composeConfig(vars: Record<string, string>) {
  const [bin, ...pre] = composeCommand();
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(SWITCHYARD_|TEMPORAL_|POSTGRES_|COMPOSE_)/.test(key)) env[key] = value;
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-compose-'));
  const envFile = join(dir, 'empty.env');
  writeFileSync(envFile, '');
  const res = spawnSync(bin!, [...pre, '--env-file', envFile, '-f', composeFile, 'config'], {
    cwd: root,
    env: { ...env, ...vars },
    encoding: 'utf8',
    timeout: 60_000,
  });
  rmSync(dir, { recursive: true, force: true });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, tool: [bin, ...pre].join(' ') };
}

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string | string[];
  environment?: Record<string, string | null> | string[];
  ports?: Array<string | number | { target: number | string; published?: number | string; host_ip?: string }>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  deploy?: { replicas?: number | string };
  depends_on?: Record<string, { condition: string }>;
  entrypoint?: string | string[];
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
}

/** Ports as `{ hostIp, published, target }`, from either the short ("ip:pub:target/proto") or the long form. */
function portsOf(service: Service) {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return {
        hostIp: port.host_ip ?? '',
        published: String(port.published ?? ''),
        target: String(port.target),
      };
    }
    const parts = String(port)
      .replace(/\/\w+$/, '')
      .split(':');
    const target = parts.pop()!;
    const published = parts.pop() ?? '';
    return { hostIp: parts.join(':'), published, target };
  });
}

function commandOf(service: Service): string {
  return Array.isArray(service.command) ? service.command.join(' ') : String(service.command ?? '');
}

describe('docker-compose.yml (checked with the compose tool; no Docker engine here)', () => {
  it('resolves to the stack a user relies on: Temporal on PostgreSQL, UI, Qdrant, gateway and workers', () => {
    const res = composeConfig({ SWITCHYARD_GATEWAY_TOKEN: TOKEN, SWITCHYARD_WORKERS: '3' });
    expect(res.status, `${res.tool} config failed:\n${res.stderr}`).toBe(0);
    const config = parse(res.stdout) as {
      services: Record<string, Service>;
      volumes?: Record<string, unknown>;
    };
    const services = config.services;

    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'temporal-schema',
        'temporal',
        'temporal-namespace',
        'temporal-ui',
        'qdrant',
        'switchyard-gateway',
        'switchyard-worker',
      ]),
    );

    // Official images, pinned (never an implicit :latest).
    expect(services.postgres!.image).toMatch(/^postgres:\d+/);
    expect(services.temporal!.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(services.qdrant!.image).toMatch(/^qdrant\/qdrant:v\d+\.\d+\.\d+$/);
    expect(environmentOf(services.temporal!)).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });

    const gateway = services['switchyard-gateway']!;
    const worker = services['switchyard-worker']!;

    // The gateway is reachable on 18789, on all host interfaces (not only loopback).
    const published = portsOf(gateway).find((p) => p.target === '18789');
    expect(published, JSON.stringify(gateway.ports)).toBeDefined();
    expect(published!.published).toBe('18789');
    expect(published!.hostIp).not.toMatch(/^127\./);

    // Both processes talk to the compose Temporal, and both run the image built from this checkout.
    for (const service of [gateway, worker]) {
      expect(environmentOf(service).TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(environmentOf(service).SWITCHYARD_HOME).toBe('/data');
      const context = typeof service.build === 'string' ? service.build : service.build?.context;
      expect(context).toBe(root);
    }
    expect(commandOf(gateway)).toBe('gateway');
    expect(commandOf(worker)).toBe('worker');

    // The gateway listens beyond the container's loopback, with the operator's token.
    expect(environmentOf(gateway)).toMatchObject({
      SWITCHYARD_GATEWAY_HOST: '0.0.0.0',
      SWITCHYARD_GATEWAY_TOKEN: TOKEN,
    });

    // Both wait until the namespace exists (the plain server image creates none).
    for (const service of [gateway, worker]) {
      expect(service.depends_on?.['temporal-namespace']).toEqual({
        condition: 'service_completed_successfully',
      });
    }

    // Worker count is settable.
    expect(Number(worker.deploy?.replicas)).toBe(3);

    // State lives in named volumes (survives `docker compose down`, not `down -v`).
    const volumeTargets = (service: Service) =>
      (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    expect(volumeTargets(services.postgres!)).toContain('/var/lib/postgresql/data');
    expect(volumeTargets(services.qdrant!)).toContain('/qdrant/storage');
    expect(volumeTargets(gateway)).toContain('/data');
    // Workers keep the agents' notes (memory's source of truth) in the same volume, and memory's
    // index in the compose Qdrant.
    expect(volumeTargets(worker)).toContain('/data');
    for (const service of [gateway, worker]) {
      expect(environmentOf(service)).toMatchObject({
        SWITCHYARD_MEMORY_BACKEND: 'qdrant',
        SWITCHYARD_QDRANT_URL: 'http://qdrant:6333',
      });
    }
    expect(Object.keys(config.volumes ?? {})).toEqual(
      expect.arrayContaining(['postgres-data', 'qdrant-data', 'switchyard-data']),
    );
  });

  it('refuses to resolve without SWITCHYARD_GATEWAY_TOKEN and names the variable', () => {
    const res = composeConfig({});
    expect(res.status, `${res.tool} config unexpectedly succeeded without the token`).not.toBe(0);
    expect(`${res.stderr}${res.stdout}`).toMatch(/SWITCHYARD_GATEWAY_TOKEN/);
  });

  it('is a Compose Specification file (no obsolete top-level `version:` key)', () => {
    const source = parse(readFileSync(composeFile, 'utf8')) as Record<string, unknown>;
    expect(source).not.toHaveProperty('version');
    expect(source).toHaveProperty('services');
  });
});

// scripts/cluster.sh runs the same Temporal server as the compose file, from the same config
// files, so what `npm run test:cluster` tests is what `docker compose up` runs.
describe('docker-compose.yml and scripts/cluster.sh run the same Temporal', () => {
  const script = readFileSync(join(root, 'scripts', 'cluster.sh'), 'utf8');
  const configDir = join(root, 'temporal', 'cluster', 'config');
  const template = readFileSync(join(configDir, 'temporal.yaml'), 'utf8');
  const resolved = () => {
    const res = composeConfig({ SWITCHYARD_GATEWAY_TOKEN: TOKEN });
    expect(res.status, `${res.tool} config failed:\n${res.stderr}`).toBe(0);
    return (parse(res.stdout) as { services: Record<string, Service> }).services;
  };

  it('uses the server version the script builds, for the server and its schema tool', () => {
    const pinned = /^TEMPORAL_VERSION=v(\d+\.\d+\.\d+)$/m.exec(script)?.[1];
    expect(pinned, 'TEMPORAL_VERSION=v… in scripts/cluster.sh').toBeDefined();
    const services = resolved();
    expect(services.temporal!.image).toBe(`temporalio/server:${pinned}`);
    expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${pinned}`);
    expect(services['temporal-namespace']!.image).toBe(`temporalio/admin-tools:${pinned}`);
  });

  it("mounts the repository's config directory, the one the script starts the server with", () => {
    const temporal = resolved().temporal!;
    const mounts = (temporal.volumes ?? []).map((v) =>
      typeof v === 'string'
        ? { source: v.split(':')[0]!, target: v.split(':')[1]! }
        : { source: v.source ?? '', target: v.target },
    );
    expect(mounts).toContainEqual({ source: configDir, target: '/etc/temporal/config' });
    // The image's WORKDIR is /etc/temporal; the script runs the server from temporal/cluster.
    expect(environmentOf(temporal).TEMPORAL_SERVER_CONFIG_FILE_PATH).toBe('config/temporal.yaml');
    expect(script).toMatch(/CONFIG_DIR=\$ROOT\/temporal\/cluster\b/);
    expect(script).toContain('--config-file config/temporal.yaml');
    // The dynamic config the template falls back to is in that directory.
    const dynamic = /DYNAMIC_CONFIG_FILE_PATH"\)/.test(template)
      ? /default "(config\/dynamicconfig\/[^"]+)" \(env "DYNAMIC_CONFIG_FILE_PATH"\)/.exec(template)?.[1]
      : undefined;
    expect(dynamic).toBeDefined();
    expect(() => readFileSync(join(root, 'temporal', 'cluster', dynamic!), 'utf8')).not.toThrow();
  });

  it('sets only variables the config file reads, and the script sets the same ones', () => {
    const read = new Set([...template.matchAll(/env "([A-Z_]+)"/g)].map((m) => m[1]!));
    const env = environmentOf(resolved().temporal!);
    // Read by the image's entrypoint, not the template.
    const entrypointOnly = ['TEMPORAL_SERVER_CONFIG_FILE_PATH', 'TEMPORAL_ALLOW_NO_AUTH'];
    for (const name of Object.keys(env).filter((n) => !entrypointOnly.includes(n))) {
      expect(read, `docker-compose.yml sets ${name}, which temporal.yaml never reads`).toContain(name);
      expect(script, `scripts/cluster.sh does not set ${name}`).toMatch(new RegExp(`\\b${name}=`));
    }
    expect(env).toMatchObject({ DB: 'postgres12' });
    expect(script).toMatch(/\bDB=postgres12\b/);
  });

  it('creates and migrates the schemas with the same sql tool steps', () => {
    const schema = resolved()['temporal-schema']!;
    const command = commandOf(schema);
    for (const text of [command, script]) {
      expect(text).toContain('temporal:temporal temporal_visibility:visibility');
      expect(text).toContain('setup-schema -v 0.0');
      expect(text).toMatch(/update-schema --schema-name "?postgresql\/v12\/\$\{?\$?dir/);
    }
    expect(environmentOf(schema)).toMatchObject({ SQL_PLUGIN: 'postgres12' });
    expect(script).toContain('SQL_PLUGIN=postgres12');
  });
});
