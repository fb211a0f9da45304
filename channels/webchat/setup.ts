// Onboarding in the web chat: when the agent has no working model, a message is not handed to a
// turn (which could only fail); it is held, unacknowledged, while the person picks a provider
// and gives a key in `setup` frames. When the dialogue is done (or the model got configured some
// other way), the held messages go to their turns in order and are acknowledged. The dialogue
// itself (what to ask, the test call, writing the config) is the gateway's; it arrives here as
// `WebchatSetup`. Only people who may use the web chat at all get here: loopback, or the token.
import type { InboundMessage } from '../envelope.js';
import type { ClientSetupFrame, SetupView } from './protocol.js';

/** One person's way through the dialogue (gateway/onboarding.ts). */
export interface SetupSession {
  view(): SetupView;
  choose(provider: string): SetupView;
  submit(values: Extract<ClientSetupFrame, { action: 'submit' }>['values']): Promise<SetupView>;
  back(): SetupView;
  readonly done: boolean;
}

export interface WebchatSetup {
  /** Why this message cannot be answered yet (no working model for its agent), or undefined. */
  needed(message: InboundMessage): string | undefined;
  /** A new dialogue for the agent this message goes to. */
  begin(message: InboundMessage, reason: string): SetupSession;
}

export interface SetupDeskOptions {
  setup: WebchatSetup;
  /** Show the view to every open tab of the chat. */
  show(chatId: string, view: SetupView): void;
  /** Hand a held message to its turn (and acknowledge it); throws when that failed. */
  deliver(chatId: string, message: InboundMessage): Promise<void>;
  log: { warn(obj: object, msg: string): void };
}

interface HeldChat {
  session: SetupSession;
  waiting: InboundMessage[];
  releasing: boolean;
}

export interface SetupDesk {
  /** True when the message is held for setup (the caller must not hand it over or acknowledge it). */
  hold(chatId: string, message: InboundMessage): boolean;
  /** An answer from the browser. */
  answer(chatId: string, frame: ClientSetupFrame): Promise<void>;
  /** The view a tab that (re)connects gets, while a dialogue runs for its chat. */
  current(chatId: string): SetupView | undefined;
}

export function createSetupDesk(options: SetupDeskOptions): SetupDesk {
  const { setup, show, deliver, log } = options;
  const chats = new Map<string, HeldChat>();

  /** Sends the held messages on, in order; new ones that arrive meanwhile queue behind them. */
  async function release(chatId: string, held: HeldChat): Promise<void> {
    if (held.releasing) return;
    held.releasing = true;
    try {
      while (held.waiting.length > 0) {
        const next = held.waiting[0]!;
        try {
          await deliver(chatId, next);
        } catch (err) {
          // Not acknowledged: the page sends it again when it reconnects.
          log.warn({ chatId, err }, 'webchat: a message held for setup could not be handed over');
          break;
        }
        held.waiting.shift();
      }
    } finally {
      chats.delete(chatId);
    }
  }

  /** The model may have been configured meanwhile (by hand, another tab, `switchyard onboard`). */
  function stillNeeded(held: HeldChat): boolean {
    const first = held.waiting[0];
    return held.session.done ? false : first !== undefined && setup.needed(first) !== undefined;
  }

  return {
    hold(chatId, message) {
      const held = chats.get(chatId);
      if (held) {
        if (!held.waiting.some((m) => m.messageId === message.messageId)) held.waiting.push(message);
        if (held.releasing) return true;
        if (!stillNeeded(held)) void release(chatId, held);
        else show(chatId, held.session.view());
        return true;
      }
      const reason = setup.needed(message);
      if (reason === undefined) return false;
      const session = setup.begin(message, reason);
      chats.set(chatId, { session, waiting: [message], releasing: false });
      show(chatId, session.view());
      return true;
    },

    async answer(chatId, frame) {
      const held = chats.get(chatId);
      if (!held || held.releasing) return;
      if (!stillNeeded(held)) {
        await release(chatId, held);
        return;
      }
      if (frame.action === 'cancel') {
        chats.delete(chatId);
        log.warn(
          { chatId, dropped: held.waiting.map((m) => m.messageId) },
          'webchat: the client gave up setting up a model; its held messages were not sent',
        );
        return;
      }
      const { session } = held;
      const view =
        frame.action === 'choose'
          ? session.choose(frame.provider)
          : frame.action === 'back'
            ? session.back()
            : await session.submit(frame.values);
      show(chatId, view);
      if (session.done) await release(chatId, held);
    },

    current(chatId) {
      const held = chats.get(chatId);
      return held && !held.releasing ? held.session.view() : undefined;
    },
  };
}
