// Onboarding in a terminal: the same views as the web chat's setup panel (channels/webchat/
// protocol.ts SetupView), asked one line at a time. A key is read without echo on a terminal;
// from a pipe (scripts, tests) it is the next line. Used by `switchyard onboard` (the dialogue
// runs in this process) and `switchyard send` (the dialogue runs in the gateway).
import { createInterface } from 'node:readline';
import type { ClientSetupFrame, SetupField, SetupView } from '../channels/webchat/protocol.js';

export interface SetupIO {
  say(text: string): void;
  /** One answer; `secret` answers are not echoed. Rejects when the input ends. */
  ask(question: string, options?: { secret?: boolean }): Promise<string>;
  close(): void;
}

/** Answers given in advance (command-line flags), used instead of asking. */
export type Presets = { provider?: string } & Partial<Record<SetupField['name'], string>>;

/** Walks the person through the views until `done`; returns that view. */
export async function runSetupInTerminal(
  first: SetupView,
  act: (frame: ClientSetupFrame) => Promise<SetupView>,
  io: SetupIO,
  presets: Presets = {},
): Promise<SetupView> {
  let view = first;
  let presetProvider = presets.provider;
  for (;;) {
    if (view.step === 'done') {
      io.say(view.text);
      return view;
    }
    io.say(view.text);
    if (view.error) io.say(`! ${view.error}`);
    if (view.step === 'provider') {
      const choices = view.choices ?? [];
      let pick = presetProvider;
      presetProvider = undefined;
      if (!pick) {
        for (const [i, c] of choices.entries()) io.say(`  ${i + 1}) ${c.label}`);
        const answer = (await io.ask(`Provider [1-${choices.length}]: `)).trim();
        pick = choices[Number(answer) - 1]?.id ?? answer;
      }
      view = await act({ type: 'setup', action: 'choose', provider: pick });
      continue;
    }
    const values: Partial<Record<SetupField['name'], string>> = {};
    for (const field of view.fields ?? []) {
      const preset = presets[field.name];
      if (preset !== undefined && !view.error) {
        values[field.name] = preset;
        continue;
      }
      const hint = field.value ? ` [${field.value}]` : field.placeholder ? ` (${field.placeholder})` : '';
      const optional = field.required ? '' : ' (optional)';
      const answer = (
        await io.ask(`${field.label}${optional}${hint}: `, { secret: field.secret === true })
      ).trim();
      values[field.name] = answer || field.value || '';
    }
    io.say('Testing…');
    view = await act({ type: 'setup', action: 'submit', values });
  }
}

/** stdin/stdout as a SetupIO: muted echo for secrets on a terminal, plain lines from a pipe. */
export function terminalIO(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): SetupIO {
  const tty = input.isTTY === true;
  const rl = createInterface({ input, output, terminal: tty });
  let muted = false;
  // readline echoes what is typed through _writeToOutput: swallow it while a key is typed.
  const internal = rl as unknown as { _writeToOutput(text: string): void };
  const write = internal._writeToOutput.bind(rl);
  internal._writeToOutput = (text: string) => {
    if (!muted) write(text);
  };
  const lines = rl[Symbol.asyncIterator]();
  return {
    say: (text) => output.write(`${text}\n`),
    async ask(question, options) {
      output.write(question);
      muted = tty && options?.secret === true;
      const next = await lines.next();
      if (muted) output.write('\n');
      muted = false;
      if (next.done) throw new Error('the input ended before setup was finished');
      return String(next.value);
    },
    close: () => rl.close(),
  };
}
