// messages.upsert payloads as baileys emits them. The first two were recorded from baileys
// against crabline; the rest follow WhatsApp's shapes for what crabline cannot send (mentions in
// contextInfo, replies, LID-addressed groups, media, wrappers).
import type { WAMessage } from 'baileys';

export const SELF = '15550000000@s.whatsapp.net';
export const SELF_LID = '98765432100000@lid';
export const ALICE = '15551234567@s.whatsapp.net';
export const GROUP = '120363001234567890@g.us';

/** Recorded: a DM from Alice. */
export const dm: WAMessage = {
  key: { remoteJid: ALICE, fromMe: false, id: 'INBOUND-DM-1', participant: '', addressingMode: 'pn' },
  message: { conversation: 'hello bot' },
  messageTimestamp: 1796300745,
  pushName: 'Alice',
};

/** Recorded: a group message that @-mentions the linked number in its text (all crabline can send). */
export const groupTextMention: WAMessage = {
  key: { remoteJid: GROUP, fromMe: false, id: 'INBOUND-GRP-1', participant: ALICE, addressingMode: 'pn' },
  message: { conversation: '@15550000000 hi group' },
  messageTimestamp: 1796300750,
  pushName: 'Alice',
};

export const groupPlain: WAMessage = {
  key: { remoteJid: GROUP, fromMe: false, id: 'GRP-PLAIN', participant: ALICE },
  message: { conversation: 'lunch anyone?' },
  messageTimestamp: 1796300760,
  pushName: 'Alice',
};

/** A real client's mention: the number in the text and the JID in contextInfo.mentionedJid. */
export const groupContextMention: WAMessage = {
  key: { remoteJid: GROUP, fromMe: false, id: 'GRP-CTX', participant: ALICE },
  message: {
    extendedTextMessage: { text: '@Switchyard what time is it?', contextInfo: { mentionedJid: [SELF] } },
  },
  messageTimestamp: 1796300770,
};

/** A reply to one of the assistant's messages in the group. */
export const groupReplyToBot: WAMessage = {
  key: { remoteJid: GROUP, fromMe: false, id: 'GRP-REPLY', participant: ALICE },
  message: {
    extendedTextMessage: {
      text: 'and tomorrow?',
      contextInfo: {
        stanzaId: '3EB0ABCDEF',
        participant: SELF,
        quotedMessage: { conversation: 'Sunny today.' },
      },
    },
  },
  messageTimestamp: 1796300780,
};

/** A reply to someone else: not addressed to the assistant. */
export const groupReplyToOther: WAMessage = {
  key: { remoteJid: GROUP, fromMe: false, id: 'GRP-REPLY-OTHER', participant: ALICE },
  message: {
    extendedTextMessage: {
      text: 'me too',
      contextInfo: {
        stanzaId: 'XYZ',
        participant: '15557777777@s.whatsapp.net',
        quotedMessage: { conversation: 'pizza' },
      },
    },
  },
  messageTimestamp: 1796300790,
};

/** A LID-addressed group: the author's phone number comes as participantAlt; mentions name our LID. */
export const groupLid: WAMessage = {
  key: {
    remoteJid: GROUP,
    fromMe: false,
    id: 'GRP-LID',
    participant: '11112222333344@lid',
    participantAlt: ALICE,
    addressingMode: 'lid',
  },
  message: { extendedTextMessage: { text: '@987 hi', contextInfo: { mentionedJid: [SELF_LID] } } },
  messageTimestamp: 1796300800,
};

/** Disappearing-messages wrapper around an image with a caption. */
export const ephemeralImage: WAMessage = {
  key: { remoteJid: ALICE, fromMe: false, id: 'IMG-1' },
  message: {
    ephemeralMessage: {
      message: { imageMessage: { caption: 'look at this', mimetype: 'image/jpeg', fileLength: 2048 } },
    },
  },
  messageTimestamp: 1796300810,
};

/** Recorded: a voice note (crabline can send audio). */
export const voiceNote: WAMessage = {
  key: { remoteJid: ALICE, fromMe: false, id: 'INBOUND-AUDIO-1', participant: '', addressingMode: 'pn' },
  message: { audioMessage: { mimetype: 'audio/ogg; codecs=opus', fileLength: 28, ptt: true } },
  messageTimestamp: 1796300750,
  pushName: 'Test User',
};

export const fromMe: WAMessage = {
  key: { remoteJid: ALICE, fromMe: true, id: '3EB0OWN' },
  message: { conversation: 'our own reply' },
};

export const status: WAMessage = {
  key: { remoteJid: 'status@broadcast', fromMe: false, id: 'STATUS-1', participant: ALICE },
  message: { conversation: 'my story' },
};

export const reaction: WAMessage = {
  key: { remoteJid: ALICE, fromMe: false, id: 'REACT-1' },
  message: { reactionMessage: { text: '👍', key: { id: '3EB0ABCDEF' } } },
};
