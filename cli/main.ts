// The `switchyard` command line. Each command's module (and what it pulls in: the Temporal
// client, the gateway, the worker) is loaded only when that command runs, so `switchyard worker`
// does not load the gateway, and `switchyard sessions list` loads neither. Help and unknown
// commands load them all (commander builds the help from the registered commands); --version
// loads none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { homePaths, projectRoot } from '../config/home.js';

type Register = (program: Command) => void;

/** Top-level command name → how to register it (and its subcommands). */
const COMMANDS: Record<string, () => Promise<Register>> = {
  up: async () => (await import('./commands/up.js')).registerUpCommand,
  worker: async () => (await import('./commands/worker.js')).registerWorkerCommand,
  gateway: async () => (await import('./commands/gateway.js')).registerGatewayCommand,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctorCommand,
  echo: async () => (await import('./commands/echo.js')).registerEchoCommand,
  pipelines: async () => (await import('./commands/pipelines.js')).registerPipelinesCommands,
  send: async () => (await import('./commands/send.js')).registerSendCommand,
  onboard: async () => (await import('./commands/onboard.js')).registerOnboardCommand,
  sessions: async () => (await import('./commands/sessions.js')).registerSessionsCommands,
  approvals: async () => (await import('./commands/approvals.js')).registerApprovalsCommands,
  cron: async () => (await import('./commands/cron.js')).registerCronCommands,
  channels: async () => (await import('./commands/channels.js')).registerChannelsCommands,
  memory: async () => (await import('./commands/memory.js')).registerMemoryCommands,
  skills: async () => (await import('./commands/skills.js')).registerSkillsCommands,
  media: async () => (await import('./commands/media.js')).registerMediaCommands,
  encryption: async () => (await import('./commands/encryption.js')).registerEncryptionCommands,
  // `pairing` and `allowlist` are registered together; both edit the gateway's SQLite.
  pairing: pairingCommands,
  allowlist: pairingCommands,
  outbox: async () => {
    const { registerOutboxCommands } = await import('./commands/outbox.js');
    const openDatabase = await gatewayDbOpener();
    return (program) => registerOutboxCommands(program, { openDatabase });
  },
  devices: async () => {
    const { registerDeviceCommands } = await import('./commands/devices.js');
    const openDatabase = await gatewayDbOpener();
    return (program) => registerDeviceCommands(program, { openDatabase });
  },
};

async function pairingCommands(): Promise<Register> {
  const { registerPairingCommands } = await import('./commands/pairing.js');
  const openDb = await gatewayDbOpener();
  return (program) => registerPairingCommands(program, { openDb });
}

/** The gateway's SQLite (pairing, allowlists, devices); the CLI edits it beside a running gateway (WAL). */
async function gatewayDbOpener() {
  const [{ openDb }, { loadConfigOrExit }] = await Promise.all([
    import('../gateway/store/db.js'),
    import('./load.js'),
  ]);
  return () => openDb(homePaths(loadConfigOrExit().home).gatewayDb);
}

const { version } = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
  version: string;
};

const program = new Command()
  .name('switchyard')
  .description('A personal AI assistant on your own server, on Temporal.')
  .version(version);

const name = process.argv[2];
const only = name && Object.hasOwn(COMMANDS, name) ? name : undefined;
const versionOnly = name === '--version' || name === '-V';
const wanted = only ? [only] : versionOnly ? [] : Object.keys(COMMANDS);
const registered = new Set<() => Promise<Register>>();
for (const command of wanted) {
  const load = COMMANDS[command]!;
  if (registered.has(load)) continue;
  registered.add(load);
  (await load())(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A Temporal that cannot be reached or a query no worker answers is one line, not a gRPC stack.
  const { CliProblem, temporalProblem } = await import('./temporal.js');
  const line = error instanceof CliProblem ? error.message : temporalProblem(error, await whereOf());
  if (line === undefined) throw error;
  console.error(`error: ${line}`);
  process.exit(1);
}

/** The configured Temporal address and task queue, for error messages (empty when the config does not load). */
async function whereOf(): Promise<{ address?: string; taskQueue?: string }> {
  try {
    const [{ loadConfig }, { connectionOptions }] = await Promise.all([
      import('../config/load.js'),
      import('../temporal/connection.js'),
    ]);
    const config = loadConfig();
    return { address: connectionOptions(config).address, taskQueue: config.temporal.taskQueue };
  } catch {
    return {};
  }
}
