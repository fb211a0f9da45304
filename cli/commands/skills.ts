// `switchyard skills list|info|check`: the skills an agent has (its workspace, the data
// directory, the shipped ones, skills.load.extraDirs), whether each can be offered here and why
// not, and the SKILL.md files that cannot be read. No server needed: it reads the files.
import type { Command } from 'commander';
import {
  type MachineTools,
  probeMachine,
  toolOff,
} from '../../activities/agent/builtin-tools/availability.js';
import { loadAgentModelsConfig } from '../../activities/agent/config.js';
import type { Config } from '../../config/config.js';
import {
  catalogFromConfig,
  type JudgedSkill,
  type SkillCatalog,
  SOURCE_NAMES,
} from '../../skills/catalog.js';
import { loadConfigOrExit } from '../load.js';
import { printLine, table } from '../output.js';

/** The tools a turn offers when its step does not name them: these, and browser, exec, memory_* when on. */
const ALWAYS_ON = ['web_fetch', 'message', 'sessions_history', 'cron', 'read'];

export interface SkillsCommandsContext {
  config?: () => Config;
  machine?: () => MachineTools;
}

export function registerSkillsCommands(program: Command, ctx: SkillsCommandsContext = {}): void {
  const load = async (options: { agent?: string }) => {
    const config = (ctx.config ?? loadConfigOrExit)();
    const machine = (ctx.machine ?? probeMachine)();
    const off = (name: string) => toolOff(name, config, machine);
    const optional = ['browser', 'exec', 'memory_search', 'memory_get', 'memory_append'];
    const tools = [...ALWAYS_ON, ...optional.filter((t) => !off(t))];
    const agents = loadAgentModelsConfig(config.models, { home: config.home }).agents;
    const wanted = options.agent ?? agents[0]?.id ?? 'main';
    const agent = agents.find((a) => a.id.toLowerCase() === wanted.toLowerCase());
    if (options.agent && !agent) {
      throw new Error(
        `no agent '${options.agent}' (agents: ${agents.map((a) => a.id).join(', ') || 'none'})`,
      );
    }
    const catalog = await catalogFromConfig({ config: () => config, toolOff: off })(agent?.workspace, tools);
    return { catalog, agent: agent?.id ?? wanted, workspace: agent?.workspace };
  };
  const run = (fn: (cmd: Command, loaded: Awaited<ReturnType<typeof load>>, arg?: string) => void) =>
    async function (this: Command, ...rest: unknown[]) {
      const cmd = rest.at(-1) as Command;
      const options = cmd.opts() as { agent?: string };
      try {
        fn(cmd, await load(options), typeof rest[0] === 'string' ? rest[0] : undefined);
      } catch (error) {
        cmd.error(`switchyard skills: ${(error as Error).message}`, { exitCode: 1 });
      }
    };

  const skills = program
    .command('skills')
    .description("Skills (SKILL.md folders, OpenClaw's format): what the agent may use, and why not");

  skills
    .command('list')
    .description('Every skill found, whether it is ready, where it comes from')
    .option('--agent <id>', 'the agent whose workspace skills count (default: the first agent)')
    .option('--json', 'print JSON')
    .action(
      run((cmd, { catalog }) => {
        if ((cmd.opts() as { json?: boolean }).json)
          return printLine(cmd, JSON.stringify(asJson(catalog), null, 2));
        if (catalog.skills.length === 0 && catalog.errors.length === 0)
          return printLine(cmd, 'No skills found.');
        printLine(
          cmd,
          table(
            ['NAME', 'STATUS', 'SOURCE', 'DESCRIPTION'],
            catalog.skills.map((s) => [
              s.name,
              status(s),
              SOURCE_NAMES[s.source],
              oneLine(s.description, 70),
            ]),
          ),
        );
        const notReady = catalog.skills.filter((s) => !s.verdict.eligible);
        if (notReady.length > 0) {
          printLine(
            cmd,
            `\nNot ready:\n${notReady.map((s) => `  ${s.name}: ${s.verdict.reasons.join('; ')}`).join('\n')}`,
          );
        }
        if (catalog.errors.length > 0) printLine(cmd, `\nBroken (skipped):\n${brokenLines(catalog)}`);
      }),
    );

  skills
    .command('info <name>')
    .description('One skill: where it is, what it needs, whether it is ready, its instructions')
    .option('--agent <id>', 'the agent whose workspace skills count (default: the first agent)')
    .action(
      run((cmd, { catalog }, name) => {
        const skill = catalog.skills.find((s) => s.name.toLowerCase() === name!.toLowerCase());
        if (!skill) {
          const broken = catalog.errors.filter((e) => e.file.includes(`/${name}/`));
          const hint =
            broken.length > 0
              ? `; its SKILL.md is broken:\n${broken.map((e) => `  ${e.message}`).join('\n')}`
              : '';
          throw new Error(
            `no skill '${name}' (skills: ${catalog.skills.map((s) => s.name).join(', ') || 'none'})${hint}`,
          );
        }
        const req = skill.metadata.requires;
        const lines = [
          `${skill.metadata.emoji ? `${skill.metadata.emoji} ` : ''}${skill.name} — ${skill.description}`,
          `status:       ${status(skill)}${skill.verdict.eligible ? '' : `: ${skill.verdict.reasons.join('; ')}`}`,
          `file:         ${skill.file} (${SOURCE_NAMES[skill.source]})`,
          ...(skill.homepage ? [`homepage:     ${skill.homepage}`] : []),
          `tools:        ${skill.verdict.tools.join(', ') || 'none named'}`,
          ...(req.bins.length ? [`needs bins:   ${req.bins.join(', ')}`] : []),
          ...(req.anyBins.length ? [`needs one of: ${req.anyBins.join(', ')}`] : []),
          ...(req.env.length ? [`needs env:    ${req.env.join(', ')}`] : []),
          ...(req.config.length ? [`needs config: ${req.config.join(', ')}`] : []),
          ...(skill.metadata.os ? [`os:           ${skill.metadata.os.join(', ')}`] : []),
          ...catalog.shadowed
            .filter((s) => s.by.file === skill.file)
            .map((s) => `overrides:    ${s.skill.file} (${SOURCE_NAMES[s.skill.source]})`),
          '',
          skill.body,
        ];
        printLine(cmd, lines.join('\n'));
      }),
    );

  skills
    .command('check')
    .description(
      'Which skills are ready, which are not and why, which SKILL.md files are broken (exit 1 if any)',
    )
    .option('--agent <id>', 'the agent whose workspace skills count (default: the first agent)')
    .action(
      run((cmd, { catalog, agent }) => {
        const ready = catalog.skills.filter((s) => s.verdict.eligible);
        const notReady = catalog.skills.filter((s) => !s.verdict.eligible);
        printLine(
          cmd,
          `Agent ${agent}: ${catalog.skills.length} skill${catalog.skills.length === 1 ? '' : 's'} found, ` +
            `${ready.length} ready, ${notReady.length} not ready, ${catalog.errors.length} broken.`,
        );
        if (ready.length > 0) printLine(cmd, `\nReady: ${ready.map((s) => s.name).join(', ')}`);
        for (const s of notReady)
          printLine(cmd, `\n${s.name} (${s.file}):\n${s.verdict.reasons.map((r) => `  - ${r}`).join('\n')}`);
        if (catalog.errors.length > 0) printLine(cmd, `\nBroken (skipped):\n${brokenLines(catalog)}`);
        if (catalog.errors.length > 0) process.exitCode = 1;
      }),
    );
}

function status(skill: JudgedSkill): string {
  if (!skill.verdict.eligible) return 'not ready';
  return skill.disableModelInvocation ? 'ready (hidden from the model)' : 'ready';
}

function brokenLines(catalog: SkillCatalog): string {
  return catalog.errors.map((e) => `  ${e.message}`).join('\n');
}

function oneLine(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function asJson(catalog: SkillCatalog) {
  return {
    skills: catalog.skills.map((s) => ({
      name: s.name,
      description: s.description,
      file: s.file,
      source: s.source,
      ready: s.verdict.eligible,
      reasons: s.verdict.reasons,
      tools: s.verdict.tools,
      modelInvocable: !s.disableModelInvocation,
    })),
    broken: catalog.errors.map((e) => ({ file: e.file, line: e.line, problem: e.problem })),
  };
}
