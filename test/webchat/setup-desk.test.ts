// The web chat's setup desk: messages held while there is no working model, released in order
// once onboarding is done (or the model was configured some other way), never lost when a
// hand-over fails, and dropped only when the client gives up — with a log line naming them.
import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import type { SetupView } from '../../channels/webchat/protocol.js';
import { createSetupDesk, type SetupSession } from '../../channels/webchat/setup.js';

const message = (id: string) => ({ messageId: id, text: id }) as unknown as InboundMessage;

function desk(options: { failFirstDelivery?: boolean } = {}) {
  let configured = false;
  let done = false;
  const shown: Array<{ chatId: string; view: SetupView }> = [];
  const delivered: string[] = [];
  const warnings: Array<{ obj: object; msg: string }> = [];
  let failures = options.failFirstDelivery ? 1 : 0;
  const session: SetupSession = {
    view: () => (done ? { step: 'done', text: 'Done.' } : { step: 'provider', text: 'pick', choices: [] }),
    choose: () => ({ step: 'details', text: 'form', fields: [] }),
    back: () => ({ step: 'provider', text: 'pick', choices: [] }),
    submit: async (values) => {
      if (values.apiKey !== 'good')
        return { step: 'details', text: 'form', error: 'The test call failed: 401' };
      done = true;
      configured = true;
      return { step: 'done', text: 'Done.' };
    },
    get done() {
      return done;
    },
  };
  const d = createSetupDesk({
    setup: { needed: () => (configured ? undefined : 'no model'), begin: () => session },
    show: (chatId, view) => shown.push({ chatId, view }),
    deliver: async (_chatId, m) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('Temporal unreachable');
      }
      delivered.push(m.messageId);
    },
    log: { warn: (obj, msg) => warnings.push({ obj, msg }) },
  });
  return { d, shown, delivered, warnings, configureElsewhere: () => (configured = true) };
}

describe('web chat setup desk', () => {
  it('holds messages while no model works and releases them in order after a successful setup', async () => {
    const { d, shown, delivered } = desk();
    expect(d.hold('c1', message('m1'))).toBe(true);
    expect(d.hold('c1', message('m2'))).toBe(true);
    expect(d.hold('c1', message('m1'))).toBe(true); // a resend of a held message is not held twice
    expect(d.current('c1')?.step).toBe('provider');
    await d.answer('c1', { type: 'setup', action: 'choose', provider: 'anthropic' });
    await d.answer('c1', { type: 'setup', action: 'submit', values: { apiKey: 'bad' } });
    expect(shown.at(-1)?.view.error).toBe('The test call failed: 401');
    expect(delivered).toEqual([]);
    await d.answer('c1', { type: 'setup', action: 'submit', values: { apiKey: 'good' } });
    expect(shown.at(-1)?.view.step).toBe('done');
    expect(delivered).toEqual(['m1', 'm2']);
    expect(d.current('c1')).toBeUndefined();
    // Now that a model works, a message is not held.
    expect(d.hold('c1', message('m3'))).toBe(false);
  });

  it('releases the held messages at the next message when the model was configured some other way', async () => {
    const { d, delivered, configureElsewhere } = desk();
    d.hold('c1', message('m1'));
    configureElsewhere();
    expect(d.hold('c1', message('m2'))).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(delivered).toEqual(['m1', 'm2']);
  });

  it('keeps a message whose hand-over failed unacknowledged (the page resends it) and logs why', async () => {
    const { d, delivered, warnings } = desk({ failFirstDelivery: true });
    d.hold('c1', message('m1'));
    await d.answer('c1', { type: 'setup', action: 'submit', values: { apiKey: 'good' } });
    expect(delivered).toEqual([]);
    expect(warnings.map((w) => w.msg)).toEqual([
      'webchat: a message held for setup could not be handed over',
    ]);
    // The page resends on reconnect: the model works now, so it goes straight on.
    expect(d.hold('c1', message('m1'))).toBe(false);
  });

  it('drops held messages only when the client gives up, naming them in the log', async () => {
    const { d, delivered, warnings } = desk();
    d.hold('c1', message('m1'));
    await d.answer('c1', { type: 'setup', action: 'cancel' });
    expect(delivered).toEqual([]);
    expect(warnings).toEqual([
      {
        obj: { chatId: 'c1', dropped: ['m1'] },
        msg: 'webchat: the client gave up setting up a model; its held messages were not sent',
      },
    ]);
    expect(d.current('c1')).toBeUndefined();
  });
});
