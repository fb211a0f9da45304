// `switchyard memory status|index|search`: the agents' memory from the command line, without a
// worker: what is indexed, index now (only what changed, or everything with --force), and search
// exactly as the agent's memory_search does.
import type { Command } from 'commander';
import { loadAgentModelsConfig } from '../../activities/agent/config.js';
import type { Config } from '../../config/config.js';
import { MemoryError } from '../../memory/errors.js';
import type { MemoryService } from '../../memory/service.js';
import { productionMemory } from '../../worker/worker.js';
import { loadConfigOrExit } from '../load.js';
import { printLine, table } from '../output.js';

export interface MemoryCommandsContext {
  config?: () => Config;
}

export function registerMemoryCommands(program: Command, ctx: MemoryCommandsContext = {}): void {
  const withMemory = async <T>(cmd: Command, fn: (memory: MemoryService) => Promise<T>): Promise<T> => {
    const config = (ctx.config ?? loadConfigOrExit)();
    let memory: MemoryService | undefined;
    try {
      // Skipped notes and rebuilt indexes are worth a line; what was indexed is printed anyway.
      memory = productionMemory(
        config,
        () => loadAgentModelsConfig(config.models, { home: config.home }),
        (level, message) => {
          if (level === 'warn') process.stderr.write(`${message}\n`);
        },
      );
      return await fn(memory);
    } catch (error) {
      if (error instanceof MemoryError) return cmd.error(`memory: ${error.message}`, { exitCode: 1 });
      throw error;
    } finally {
      await memory?.close();
    }
  };

  const memory = program
    .command('memory')
    .description("The agents' memory: MEMORY.md and memory/*.md in each workspace, indexed for search");

  memory
    .command('status')
    .description('What is indexed: notes, chunks, embedding model, backend')
    .option('--agent <id>', 'whose memory', 'main')
    .option('--json', 'print JSON')
    .action(async (options: { agent: string; json?: boolean }, cmd: Command) => {
      const status = await withMemory(cmd, (m) => m.agent(options.agent).status());
      if (options.json) return printLine(cmd, JSON.stringify(status, null, 2));
      printLine(
        cmd,
        [
          `agent       ${status.agent}`,
          `workspace   ${status.workspace}`,
          `notes       ${status.notes} file(s); ${status.files} indexed, ${status.chunks} chunks`,
          `embeddings  ${status.embedder}${status.modelMatches ? '' : ` (the index holds ${status.model}: run \`switchyard memory index\`)`}`,
          `backend     ${status.backend}: ${status.location}`,
          `vectors     ${status.vectorIndex}`,
          ...(status.notIndexed.length > 0 ? [`not indexed ${status.notIndexed.join(', ')}`] : []),
        ].join('\n'),
      );
    });

  memory
    .command('index')
    .description('Index what changed since the last time (--force: forget the index and index every note)')
    .option('--agent <id>', 'whose memory', 'main')
    .option('--force', 'rebuild from the notes')
    .option('--json', 'print JSON')
    .action(async (options: { agent: string; force?: boolean; json?: boolean }, cmd: Command) => {
      const started = performance.now();
      const report = await withMemory(cmd, (m) =>
        options.force ? m.agent(options.agent).reindex() : m.agent(options.agent).sync(),
      );
      if (options.json) return printLine(cmd, JSON.stringify(report, null, 2));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      printLine(
        cmd,
        [
          `${report.files} note(s); indexed ${report.indexed.length}${report.indexed.length ? ` (${report.indexed.join(', ')})` : ''}, removed ${report.removed.length}; ` +
            `${report.chunksEmbedded} chunk(s) embedded, ${report.chunksCached} from the cache; ${seconds} s`,
          ...report.skipped.map((s) => `skipped ${s.path}: ${s.reason}`),
        ].join('\n'),
      );
    });

  memory
    .command('search <query>')
    .description('Search the way the agent does (memory_search): ranked snippets with path, lines and score')
    .option('--agent <id>', 'whose memory', 'main')
    .option('--max-results <n>', 'at most this many hits')
    .option('--min-score <x>', 'leave out hits scoring lower (0–1)')
    .option('--json', 'print JSON')
    .action(
      async (
        query: string,
        options: { agent: string; maxResults?: string; minScore?: string; json?: boolean },
        cmd: Command,
      ) => {
        const maxResults = options.maxResults === undefined ? undefined : Number(options.maxResults);
        if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 1)) {
          return cmd.error(`--max-results must be a whole number ≥ 1, got '${options.maxResults}'`);
        }
        const minScore = options.minScore === undefined ? undefined : Number(options.minScore);
        if (minScore !== undefined && !(minScore >= 0 && minScore <= 1)) {
          return cmd.error(`--min-score must be a number from 0 to 1, got '${options.minScore}'`);
        }
        const result = await withMemory(cmd, (m) =>
          m.agent(options.agent).search(query, {
            ...(maxResults !== undefined ? { maxResults } : {}),
            ...(minScore !== undefined ? { minScore } : {}),
          }),
        );
        if (options.json) return printLine(cmd, JSON.stringify(result, null, 2));
        if (result.hits.length === 0) return printLine(cmd, 'No memory matched.');
        printLine(
          cmd,
          table(
            ['SCORE', 'SOURCE', 'TEXT'],
            result.hits.map((h) => [
              h.score.toFixed(3),
              `${h.path}#L${h.startLine}-L${h.endLine}`,
              h.text.replace(/\s+/g, ' ').slice(0, 100),
            ]),
          ),
        );
      },
    );
}
