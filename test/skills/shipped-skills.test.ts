// The agent follows the skills Switchyard ships, on a real Temporal server: the turn's prompt
// lists them, the model (pi-ai's faux provider, scripted like a model that does what it reads)
// opens a SKILL.md with `read`, takes the URLs and rules from its text, and calls the real
// web_fetch and cron tools with them. The internet is a local server standing in for Open-Meteo
// and a news site (web_fetch's connection is pointed at it; its address checks still run).
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type AssistantMessage,
  type Context,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  registerFauxProvider,
  type ToolResultMessage,
} from '@mariozechner/pi-ai';
import type { Client } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCronTool } from '../../activities/agent/builtin-tools/cron.js';
import {
  createWebFetchTool,
  type FetchLike,
  type LookupAll,
} from '../../activities/agent/builtin-tools/index.js';
import { type AgentModelsConfig, loadAgentModelsConfig } from '../../activities/agent/index.js';
import { removeTask, showTask } from '../../client/cron/index.js';
import { bundledSkillsDir, loadSkillCatalog } from '../../skills/catalog.js';
import { skillSkippedLine } from '../../worker/agent-extras.js';
import { reminderOrigin } from '../../worker/worker.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { bundleAgentWorkflows, connectClient, startAgentWorker } from '../agent/harness.js';
import { uniqueTaskQueue } from '../helpers/config.js';

const address = inject('temporalAddress');

const ARTICLE = `<!doctype html><html><head><title>Town votes to keep its night trains</title></head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>Town votes to keep its night trains</h1><p class="byline">By Ada Lovelace, 2 March 2026</p>
<p>The council voted 31 to 4 on Tuesday to keep the two night trains to the coast, which were to be cut in May.</p>
<p>The service costs 1.2 million a year; ticket sales cover about half of it, the rest comes from the regional budget.</p>
<p>Rail users' groups had collected 8,000 signatures. The operator said it would add a third train in summer.</p>
</article><footer>© Local News</footer></body></html>`;

/** Open-Meteo and a news site, on loopback: what web_fetch asked for is in `requests`. */
async function fakeInternet() {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    requests.push(`${req.headers['x-original-host']}${url.pathname}${url.search}`);
    const json = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/v1/search') {
      const name = url.searchParams.get('name');
      if (name === 'Berlin' || name === 'Oslo') {
        const place =
          name === 'Berlin'
            ? {
                name: 'Berlin',
                latitude: 52.52,
                longitude: 13.41,
                country: 'Germany',
                timezone: 'Europe/Berlin',
              }
            : { name: 'Oslo', latitude: 59.91, longitude: 10.75, country: 'Norway', timezone: 'Europe/Oslo' };
        return json({ results: [{ id: 1, admin1: 'x', ...place }] });
      }
      return json({ generationtime_ms: 0.1 });
    }
    if (url.pathname === '/v1/forecast') {
      return json({
        latitude: Number(url.searchParams.get('latitude')),
        longitude: Number(url.searchParams.get('longitude')),
        current_units: { temperature_2m: '°C', wind_speed_10m: 'km/h' },
        current: { temperature_2m: 7.1, apparent_temperature: 3.9, weather_code: 61, wind_speed_10m: 24.5 },
        daily_units: { temperature_2m_max: '°C', precipitation_probability_max: '%' },
        daily: {
          time: ['2026-03-02', '2026-03-03', '2026-03-04'],
          weather_code: [61, 3, 0],
          temperature_2m_max: [9.2, 8.0, 11.5],
          temperature_2m_min: [3.1, 2.2, 1.0],
          precipitation_probability_max: [80, 20, 0],
        },
      });
    }
    if (url.pathname === '/2026/night-trains') {
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ARTICLE);
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const hosts = new Set(['geocoding-api.open-meteo.com', 'api.open-meteo.com', 'news.example.org']);
  // Every name resolves to a public address (the policy checks it); the bytes come from loopback.
  const lookup: LookupAll = async (host) => {
    if (!hosts.has(host))
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return [{ address: '203.0.114.10', family: 4 }];
  };
  const fetch: FetchLike = (url, init) => {
    const target = new URL(url);
    return globalThis.fetch(`http://127.0.0.1:${port}${target.pathname}${target.search}`, {
      ...init,
      headers: { ...init.headers, 'x-original-host': target.hostname },
    });
  };
  return { requests, lookup, fetch, close: () => server.close() };
}

/** What the last tool result said. */
function lastResult(context: Context): string {
  const result = [...context.messages].reverse().find((m): m is ToolResultMessage => m.role === 'toolResult');
  return result ? result.content.map((c) => ('text' in c ? c.text : '')).join('') : '';
}

/** Every tool result so far, oldest first. */
function results(context: Context): string[] {
  return context.messages
    .filter((m): m is ToolResultMessage => m.role === 'toolResult')
    .map((m) => m.content.map((c) => ('text' in c ? c.text : '')).join(''));
}

/** Where the prompt says a skill's SKILL.md is. */
function locationOf(context: Context, skill: string): string {
  const match = new RegExp(
    `<name>${skill}</name>\\s*<description>[^<]*</description>\\s*<location>([^<]+)</location>`,
  ).exec(context.systemPrompt ?? '');
  if (!match) throw new Error(`the prompt lists no skill '${skill}':\n${context.systemPrompt}`);
  return match[1]!;
}

/** A URL of the skill's text, by its start, with its <placeholders> filled in. */
function urlIn(skillText: string, start: string, fill: Record<string, string | number>): string {
  const match = new RegExp(`${start.replace(/[.?/]/g, '\\$&')}[^\\s\`]+`).exec(skillText);
  if (!match) throw new Error(`the skill has no URL starting ${start}`);
  return match[0].replace(/<(\w+)>/g, (_, name: string) => String(fill[name]));
}

const call = (name: string, args: Record<string, unknown>): AssistantMessage =>
  fauxAssistantMessage([fauxToolCall(name, args)], { stopReason: 'toolUse' });

/** The page text inside web_fetch's JSON answer. */
const fetched = (text: string) =>
  JSON.parse(text) as { text: string; url: string; title?: string; status: number };

describe('the shipped skills, followed by an agent', () => {
  let bundle: WorkflowBundle;
  let client: Client;
  let faux: FauxProviderRegistration;
  let config: AgentModelsConfig;
  let internet: Awaited<ReturnType<typeof fakeInternet>>;
  let taskQueue: string;
  let worker: Awaited<ReturnType<typeof startAgentWorker>>;
  let home: string;
  const prompts: string[] = [];
  /** What the worker would log about skills it skipped. */
  const skipped: string[] = [];

  beforeAll(async () => {
    [bundle, client, internet] = await Promise.all([
      bundleAgentWorkflows(),
      connectClient(address),
      fakeInternet(),
    ]);
    faux = registerFauxProvider({ provider: 'faux-skills' });
    home = mkdtempSync(join(tmpdir(), 'switchyard-skills-e2e-'));
    mkdirSync(join(home, 'agents', 'main'), { recursive: true });
    config = loadAgentModelsConfig(
      {
        providers: {
          'faux-skills': {
            type: 'openai-compatible',
            api: faux.api,
            baseUrl: 'http://127.0.0.1:9',
            apiKey: 'none',
            models: [{ id: 'm', contextWindow: 64_000 }],
          },
        },
        agents: [{ id: 'main', model: 'faux-skills/m' }],
      },
      { home },
    );
    taskQueue = uniqueTaskQueue('skills');
    worker = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: {
        config,
        tools: [
          createWebFetchTool({ lookup: internet.lookup, fetch: internet.fetch }),
          createCronTool({ client, target: { taskQueue } }, reminderOrigin),
        ],
        skills: {
          catalog: (workspace, tools) =>
            loadSkillCatalog(
              { workspace, bundledDir: bundledSkillsDir() },
              {
                platform: process.platform,
                env: {},
                hasBin: () => false,
                tools: new Set(tools),
                configValue: () => undefined,
              },
            ),
          onError: (error) => skipped.push(skillSkippedLine(error)),
        },
      },
    });
  });
  afterAll(async () => {
    await worker?.shutdown();
    internet?.close();
    faux?.unregister();
  });

  const turn = async (prompt: string, id: string) =>
    client.workflow.execute('agentTurnWorkflow', {
      taskQueue,
      workflowId: `skills-${id}-${taskQueue}`,
      args: [{ args: { prompt }, ctx: { runKey: `telegram:4242:${id}` } } satisfies AgentTurnWorkflowInput],
    }) as Promise<AgentTurnResult>;

  it('weather: reads the skill, geocodes the place, asks for the forecast, puts the code in words', async () => {
    const seen: Context[] = [];
    const step = (fn: (c: Context) => AssistantMessage) => (c: Context) => {
      seen.push(structuredClone(c));
      return fn(c);
    };
    faux.setResponses([
      step((c) => call('read', { path: locationOf(c, 'weather') })),
      step((c) =>
        call('web_fetch', {
          url: urlIn(lastResult(c), 'https://geocoding-api.open-meteo.com/', { place: 'Berlin' }),
        }),
      ),
      step((c) => {
        const place = (JSON.parse(fetched(lastResult(c)).text) as { results: Array<Record<string, number>> })
          .results[0]!;
        const skill = results(c)[0]!;
        return call('web_fetch', {
          url: urlIn(skill, 'https://api.open-meteo.com/', { lat: place.latitude!, lon: place.longitude! }),
        });
      }),
      // The skill sends it to its reference table for the weather code: that path is in its text.
      step((c) => call('read', { path: /\S+\/references\/weather-codes\.md/.exec(results(c)[0]!)![0] })),
      step((c) => {
        const forecast = JSON.parse(fetched(results(c)[2]!).text) as {
          current: { temperature_2m: number; apparent_temperature: number; weather_code: number };
          daily: { precipitation_probability_max: number[] };
        };
        const code = forecast.current.weather_code;
        const row = lastResult(c)
          .split('\n')
          .find((line) => new RegExp(`^\\| [\\d, ]*\\b${code}\\b`).test(line))!;
        const words = row.split('|')[2]!.trim();
        return fauxAssistantMessage(
          `Berlin: ${words}, ${forecast.current.temperature_2m} °C (feels like ${forecast.current.apparent_temperature} °C), ` +
            `${forecast.daily.precipitation_probability_max[0]} % rain today.`,
        );
      }),
    ]);
    const result = await turn("What's the weather in Berlin?", 'weather');
    // The prompt listed the shipped skills with where they are.
    expect(seen[0]!.systemPrompt).toContain('<available_skills>');
    expect(locationOf(seen[0]!, 'weather')).toBe(join(bundledSkillsDir(), 'weather', 'SKILL.md'));
    expect(locationOf(seen[0]!, 'web-summary')).toBe(join(bundledSkillsDir(), 'web-summary', 'SKILL.md'));
    expect(seen[0]!.tools?.map((t) => t.name)).toContain('read');
    // read gave the instructions, {baseDir} made absolute.
    const skillText = results(seen[1]!)[0]!;
    expect(skillText).toContain('# Weather');
    expect(skillText).toContain(join(bundledSkillsDir(), 'weather', 'references', 'weather-codes.md'));
    // web_fetch went where the skill said, with the parameters it named.
    expect(internet.requests[0]).toBe(
      'geocoding-api.open-meteo.com/v1/search?name=Berlin&count=1&language=en&format=json',
    );
    const forecast = new URL(`https://${internet.requests[1]}`);
    expect(forecast.host + forecast.pathname).toBe('api.open-meteo.com/v1/forecast');
    expect(Object.fromEntries(forecast.searchParams)).toMatchObject({
      latitude: '52.52',
      longitude: '13.41',
      timezone: 'auto',
      current: expect.stringContaining('weather_code'),
      daily: expect.stringContaining('precipitation_probability_max'),
    });
    expect(result.text).toBe(
      'Berlin: rain: slight, moderate, heavy, 7.1 °C (feels like 3.9 °C), 80 % rain today.',
    );
    expect(result.usage.toolCalls).toBe(4);
    internet.requests.length = 0;
  });

  it('web-summary: reads the skill, fetches the page, summarises in its format with the source', async () => {
    faux.setResponses([
      (c) => call('read', { path: locationOf(c, 'web-summary') }),
      (c) => {
        // The skill: fetch the URL exactly as given.
        expect(lastResult(c)).toContain('Fetch the page with the `web_fetch` tool');
        return call('web_fetch', { url: 'https://news.example.org/2026/night-trains' });
      },
      (c) => {
        const page = fetched(lastResult(c));
        const skill = results(c)[0]!;
        expect(skill).toContain('Source: <final url>');
        const facts = page.text.split('\n').filter((l) => /\d/.test(l) && !l.startsWith('#'));
        return fauxAssistantMessage(
          [
            `**${page.title}** — a local news article.`,
            ...facts.slice(0, 3).map((f) => `- ${f.trim()}`),
            `Source: ${page.url}`,
          ].join('\n'),
        );
      },
    ]);
    const result = await turn('tl;dr https://news.example.org/2026/night-trains', 'summary');
    expect(internet.requests).toEqual(['news.example.org/2026/night-trains']);
    expect(result.text.split('\n')).toEqual([
      '**Town votes to keep its night trains** — a local news article.',
      '- By Ada Lovelace, 2 March 2026',
      '- The council voted 31 to 4 on Tuesday to keep the two night trains to the coast, which were to be cut in May.',
      '- The service costs 1.2 million a year; ticket sales cover about half of it, the rest comes from the regional budget.',
      'Source: https://news.example.org/2026/night-trains',
    ]);
    internet.requests.length = 0;
  });

  it('daily-briefing: schedules it with the cron tool, then writes it when it fires', async () => {
    faux.setResponses([
      (c) => call('read', { path: locationOf(c, 'daily-briefing') }),
      (c) => {
        const skill = lastResult(c);
        expect(skill).toContain('Call the `cron` tool once');
        // The skill's recipe: text starting "Daily briefing: ", a five-field cron, the time zone.
        const prefix = /`text`: `(Daily briefing: )`/.exec(skill)![1];
        const at7 = /`(0 7 \* \* \*)` for 07:00/.exec(skill)![1];
        return call('cron', {
          text: `${prefix}weather in Oslo; headlines from https://news.example.org/`,
          cron: at7,
          tz: 'Europe/Oslo',
        });
      },
      (c) => fauxAssistantMessage(`Done: ${lastResult(c)}`),
    ]);
    const setup = await turn(
      'Send me a briefing every morning at 7 with the weather in Oslo and the local news.',
      'brief',
    );
    const taskId = /\((reminder-[0-9a-f]+)\)/.exec(setup.text)![1]!;
    const cron = { client, target: { taskQueue } };
    try {
      const { task } = await showTask(cron, taskId);
      expect(task).toMatchObject({
        schedule: { kind: 'cron', expr: '0 7 * * *', tz: 'Europe/Oslo' },
        payload: {
          kind: 'agentTurn',
          message:
            'Remind the user: Daily briefing: weather in Oslo; headlines from https://news.example.org/',
        },
        delivery: { mode: 'announce', channel: 'telegram', to: '4242' },
      });
      prompts.push(task.payload.kind === 'agentTurn' ? task.payload.message : '');
    } finally {
      await removeTask(cron, taskId);
    }

    // When it fires, the scheduled turn gets that message: the skill (part B) and the weather skill.
    faux.setResponses([
      (c) => call('read', { path: locationOf(c, 'daily-briefing') }),
      (c) => {
        expect(lastResult(c)).toContain('## B. A scheduled turn says "Remind the user: Daily briefing: …"');
        return call('read', { path: locationOf(c, 'weather') });
      },
      (c) =>
        call('web_fetch', {
          url: urlIn(lastResult(c), 'https://geocoding-api.open-meteo.com/', { place: 'Oslo' }),
        }),
      (c) => {
        const place = (JSON.parse(fetched(lastResult(c)).text) as { results: Array<Record<string, number>> })
          .results[0]!;
        return call('web_fetch', {
          url: urlIn(results(c)[1]!, 'https://api.open-meteo.com/', {
            lat: place.latitude!,
            lon: place.longitude!,
          }),
        });
      },
      (c) => {
        const f = JSON.parse(fetched(lastResult(c)).text) as { daily: Record<string, number[]> };
        return fauxAssistantMessage(
          `Good morning! Oslo today: ${f.daily.temperature_2m_min![0]}–${f.daily.temperature_2m_max![0]} °C, ${f.daily.precipitation_probability_max![0]} % rain.`,
        );
      },
    ]);
    const briefing = await turn(prompts[0]!, 'fired');
    expect(internet.requests.map((r) => r.split('?')[0])).toEqual([
      'geocoding-api.open-meteo.com/v1/search',
      'api.open-meteo.com/v1/forecast',
    ]);
    expect(briefing.text).toBe('Good morning! Oslo today: 3.1–9.2 °C, 80 % rain.');
  });

  it("an OpenClaw user's skills folder works unchanged: listed, read with its references, followed", async () => {
    internet.requests.length = 0;
    const skills = join(home, 'agents', 'main', 'skills');
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(skills, path)), { recursive: true });
      writeFileSync(join(skills, path), text);
    };
    // As OpenClaw users write them: one-line metadata JSON, {baseDir}, a gate on a binary.
    write(
      'news/local-digest/SKILL.md',
      [
        '---',
        'name: local-digest',
        'description: "Digest of the local news site: top story in two lines."',
        'metadata: {"openclaw":{"emoji":"🗞️","homepage":"https://news.example.org"}}',
        '---',
        '# Local digest',
        'Use the `web_fetch` tool on https://news.example.org/2026/night-trains.',
        'Write it as {baseDir}/references/format.md says.',
        '',
      ].join('\n'),
    );
    write(
      'news/local-digest/references/format.md',
      'Line 1: the headline. Line 2: the first sentence after the byline.\n',
    );
    write(
      'gh-issues/SKILL.md',
      '---\nname: gh-issues\ndescription: Triage GitHub issues\nmetadata: {"openclaw":{"requires":{"bins":["gh"]}}}\n---\nRun gh with the `exec` tool.\n',
    );
    let prompt = '';
    faux.setResponses([
      (c) => {
        prompt = c.systemPrompt ?? '';
        return call('read', { path: locationOf(c, 'local-digest') });
      },
      (c) => call('read', { path: /\S+\/references\/format\.md/.exec(lastResult(c))![0] }),
      (c) =>
        call('web_fetch', { url: /https:\/\/news\.example\.org\/\S+?(?=\.?$)/m.exec(results(c)[0]!)![0] }),
      (c) => {
        const page = fetched(lastResult(c));
        const body = page.text
          .split('\n')
          .filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('By '));
        return fauxAssistantMessage(`${page.title}\n${body[0]}`);
      },
    ]);
    const result = await turn('local news digest please', 'digest');
    expect(locationOf({ systemPrompt: prompt, messages: [] }, 'local-digest')).toBe(
      join(skills, 'news', 'local-digest', 'SKILL.md'),
    );
    // Needs exec to run gh, which this worker does not have: not listed.
    expect(prompt).not.toContain('gh-issues');
    expect(result.text).toBe(
      'Town votes to keep its night trains\nThe council voted 31 to 4 on Tuesday to keep the two night trains to the coast, which were to be cut in May.',
    );
    expect(internet.requests).toEqual(['news.example.org/2026/night-trains']);
  });

  it('a broken SKILL.md or an unreadable skill folder: the turn goes on with the others, the log says where and what to do, once', async () => {
    const skills = join(home, 'agents', 'main', 'skills');
    mkdirSync(join(skills, 'half-written'), { recursive: true });
    writeFileSync(
      join(skills, 'half-written', 'SKILL.md'),
      '---\nname: half-written\ndescription: "never closed\n---\nBody.\n',
    );
    symlinkSync('loop', join(skills, 'loop'));
    skipped.length = 0;
    const prompts: string[] = [];
    try {
      for (const id of ['broken-1', 'broken-2']) {
        faux.setResponses([
          (c) => {
            prompts.push(c.systemPrompt ?? '');
            return fauxAssistantMessage('still here');
          },
        ]);
        expect((await turn('hello', id)).text).toBe('still here');
      }
      // The other skills are offered as before; the broken one is not.
      expect(locationOf({ systemPrompt: prompts[1]!, messages: [] }, 'weather')).toBe(
        join(bundledSkillsDir(), 'weather', 'SKILL.md'),
      );
      expect(prompts[1]).not.toContain('half-written');
      // Each problem told once (not at every turn), with where, why and the fix.
      expect(skipped).toHaveLength(2);
      expect(skipped).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^skill skipped: ${join(skills, 'half-written', 'SKILL.md')}:3: .*fix it and \`switchyard skills check\``,
          ),
        ),
      );
      expect(skipped).toContainEqual(
        expect.stringContaining(
          `skill skipped: ${join(skills, 'loop')}: folder cannot be read (ELOOP: a symbolic link loop); skipped`,
        ),
      );
    } finally {
      rmSync(join(skills, 'half-written'), { recursive: true });
      rmSync(join(skills, 'loop'));
    }
  });
});
