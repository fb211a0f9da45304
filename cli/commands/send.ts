import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import WebSocket from 'ws';
import type { ClientSetupFrame, SetupView } from '../../channels/webchat/protocol.js';
import { gatewayToken } from '../../config/token.js';
import { gatewayUrl, loadConfigOrExit } from '../load.js';
import { runSetupInTerminal, type SetupIO, terminalIO } from '../setup-terminal.js';

/**
 * `switchyard send`: one message through the running gateway's web chat, exactly as a browser
 * sends it (a real turn: session workflow, pipeline, agent, exactly-once reply), printing the
 * answer as it streams and the final reply.
 */
export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('send a message through the running gateway and print the reply (web chat channel)')
    .argument('<text>', 'the message')
    .option('--channel <channel>', 'channel to send on (webchat)', 'webchat')
    .option('--to <chat>', 'conversation id (8–64 of A-Z a-z 0-9 _ -; short ids get a prefix)', 'owner')
    .option('--timeout <seconds>', 'how long to wait for the reply', '300')
    .action(async (text: string, opts: { channel: string; to: string; timeout: string }) => {
      if (opts.channel !== 'webchat') {
        console.error(
          `switchyard send speaks the web chat channel only (got "${opts.channel}"); for the OpenAI API use POST /v1/chat/completions.`,
        );
        process.exit(2);
      }
      const config = loadConfigOrExit();
      const chatId = /^[A-Za-z0-9_-]{8,64}$/.test(opts.to) ? opts.to : `cli-chat-${opts.to}`.slice(0, 64);
      const token = gatewayToken(config, { create: false });
      const url = `${gatewayUrl(config).replace(/^http/, 'ws')}/chat/ws?chatId=${encodeURIComponent(chatId)}${
        token ? `&token=${encodeURIComponent(token)}` : ''
      }`;
      const reply = await sendOnce(url, text, Number(opts.timeout) * 1000, (delta) =>
        process.stderr.write(delta),
      );
      process.stderr.write('\n');
      console.log(reply);
    });
}

function sendOnce(
  url: string,
  text: string,
  timeoutMs: number,
  onDelta: (text: string) => void,
): Promise<string> {
  return new Promise((resolve) => {
    const clientMessageId = `cli-${randomUUID()}`;
    const ws = new WebSocket(url);
    type Setup = { io: SetupIO; next?: (view: SetupView) => void };
    let setup = undefined as Setup | undefined;
    const fail = (message: string, code = 1) => {
      clearTimeout(timer);
      setup?.io.close();
      ws.close();
      console.error(message);
      process.exit(code);
    };
    const arm = () =>
      setTimeout(
        () => fail(`No reply within ${timeoutMs / 1000} s (the turn may still finish: see the Temporal UI).`),
        timeoutMs,
      );
    // Waiting for the reply; not while a person sets up a model.
    let timer = arm();
    ws.on('error', (err) =>
      fail(`Cannot reach the gateway web chat (${err.message}). Is \`switchyard up\` running?`),
    );
    ws.on('open', () => ws.send(JSON.stringify({ type: 'message', text, clientMessageId })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        text?: string;
        replyTo?: string;
        message?: string;
        view?: SetupView;
      };
      if (frame.type === 'setup' && frame.view) onSetup(frame.view);
      if (frame.type === 'delta' && frame.replyTo === clientMessageId) onDelta(frame.text ?? '');
      if (frame.type === 'final' && frame.replyTo === clientMessageId) {
        clearTimeout(timer);
        ws.close();
        resolve(frame.text ?? '');
      }
      if (frame.type === 'error') fail(`The gateway refused the message: ${frame.message}`);
    });

    /** No model yet: set one up here when a person is at the terminal, else say how and give up. */
    function onSetup(view: SetupView) {
      if (setup?.next) {
        const next = setup.next;
        setup.next = undefined;
        next(view);
        return;
      }
      if (setup) return;
      if (!process.stdin.isTTY) {
        ws.send(JSON.stringify({ type: 'setup', action: 'cancel' }));
        fail(
          `${view.text}\nNo model is set up yet, so the message was not sent. Run \`switchyard onboard\` ` +
            '(or open the web chat), then send it again.',
          3,
        );
        return;
      }
      clearTimeout(timer);
      const io = terminalIO(process.stdin, process.stderr as unknown as NodeJS.WriteStream);
      const current: Setup = { io };
      setup = current;
      const act = (answer: ClientSetupFrame) =>
        new Promise<SetupView>((resolveView) => {
          current.next = resolveView;
          ws.send(JSON.stringify(answer));
        });
      runSetupInTerminal(view, act, io).then(
        () => {
          io.close();
          timer = arm();
        },
        (err: Error) => {
          ws.send(JSON.stringify({ type: 'setup', action: 'cancel' }));
          fail(`Setup not finished: ${err.message}. The message was not sent.`);
        },
      );
    }
  });
}
