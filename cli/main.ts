import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { homePaths, projectRoot } from '../config/home.js';
import { openDb } from '../gateway/db.js';
import { registerDeviceCommands } from '../gateway/protocol/devices-cli.js';
import { registerApprovalsCommands } from './commands/approvals.js';
import { registerCronCommands } from './commands/cron.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerEchoCommand } from './commands/echo.js';
import { registerGatewayCommand } from './commands/gateway.js';
import { registerPairingCommands } from './commands/pairing.js';
import { registerPipelinesCommands } from './commands/pipelines.js';
import { registerSendCommand } from './commands/send.js';
import { registerSessionsCommands } from './commands/sessions.js';
import { registerUpCommand } from './commands/up.js';
import { registerWorkerCommand } from './commands/worker.js';
import { loadConfigOrExit } from './load.js';

const { version } = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
  version: string;
};

const program = new Command()
  .name('switchyard')
  .description('A personal AI assistant on your own server, on Temporal.')
  .version(version);

registerUpCommand(program);
registerWorkerCommand(program);
registerGatewayCommand(program);
registerDoctorCommand(program);
registerEchoCommand(program);
registerPipelinesCommands(program);
registerSendCommand(program);
registerSessionsCommands(program);
registerApprovalsCommands(program);
registerCronCommands(program);
// The gateway's SQLite (pairing, allowlists, devices); the CLI edits it beside a running gateway (WAL).
const openGatewayDb = () => openDb(homePaths(loadConfigOrExit().home).gatewayDb);
registerPairingCommands(program, { openDb: openGatewayDb });
registerDeviceCommands(program, { openDatabase: openGatewayDb });

await program.parseAsync(process.argv);
