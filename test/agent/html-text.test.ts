/**
 * web_fetch's HTML → text on pages shaped like the real web (test/agent/fixtures/pages/): a news
 * article (Readability keeps the story, drops the chrome around it), a documentation page, a
 * table-heavy timetable and a hand-written page of broken markup (both read whole).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../activities/agent/builtin-tools/html-text.js';

const BASE = 'https://site.example/dir/page.html';
const page = (name: string) =>
  htmlToText(readFileSync(join(import.meta.dirname, 'fixtures', 'pages', `${name}.html`), 'utf8'), BASE);

/** Code, styling and analytics that must never reach the model, whatever the page. */
const NEVER = [
  'dataLayer',
  'gtag',
  'border-collapse',
  'function(',
  'position: fixed',
  '@context',
  'timetableData',
];

describe('HTML to text on real-world pages', () => {
  it('a news article: headline, the story with its subheadings, quote and links; no menus, cookie banner, promos, comments or footer', () => {
    const { title, text } = page('article');
    expect(title).toBe("Seaweed farms are quietly cleaning Britain's coastal waters | The Coastal Review");
    expect(text.startsWith("# Seaweed farms are quietly cleaning Britain's coastal waters\n\n")).toBe(true);
    for (const kept of [
      'Kelp farms strung along the Cornish coast are removing significant amounts of nitrogen',
      'dissolved nitrogen fell by an average of 21% during the growing season',
      '## Why nutrients matter',
      '"moderate" or "poor" (https://environment.example.gov.uk/catchment-planning)',
      '> "If you harvested all of it, you would be taking out roughly what 300 households flush away in a year."',
      '## What the farmers say',
      'The study is published in Marine Pollution Bulletin.',
    ]) {
      expect(text).toContain(kept);
    }
    for (const chrome of [
      ...NEVER,
      'We use cookies',
      'Accept all cookies',
      'Subscribe for £1',
      'Oyster reefs return to the Solent',
      'Advertisement',
      'What happens when the kelp rots?',
      'Storm closes Penzance harbour',
      'Registered in England',
    ]) {
      expect(text).not.toContain(chrome);
    }
  });

  it('a documentation page: headings, prose, the code block verbatim, the options table row by row; no version picker or prev/next buttons', () => {
    const { title, text } = page('docs');
    expect(title).toBe('Retry policies — Tidewater SDK 4.2 documentation');
    for (const kept of [
      '# Retry policies',
      'see Workflow failures (https://site.example/dir/workflows.html#failures)',
      'Retries happen on the server.',
      '## Defaults',
      'policy = RetryPolicy(\n    initial_interval=1,\n    maximum_attempts=5,\n)',
      'Option | Default | Meaning\ninitial_interval | 1 s | Wait before the first retry.',
      'maximum_attempts | 0 (unlimited) | Give up after this many attempts.',
      '1. Errors raised with non_retryable=True are never retried.',
      'class RetryPolicy(initial_interval, maximum_attempts)',
    ]) {
      expect(text).toContain(kept);
    }
    for (const chrome of [...NEVER, 'Installation', 'Quickstart', '3.x', '« Activities', 'Timeouts »']) {
      expect(text).not.toContain(chrome);
    }
  });

  it('a table-heavy page: every timetable and fare row readable, captions above, cells in order', () => {
    const { title, text } = page('table');
    expect(title).toBe('Falmouth – Truro bus timetable (route 35) · Kernow Buses');
    expect(text).toContain(
      [
        'Monday to Friday — towards Truro',
        'Stop | 0615 | 0715 | 0815 | 0915',
        'Falmouth, The Moor | 06:15 | 07:15 | 08:15 | 09:15',
        'Penryn, Commercial Road | 06:27 | 07:29 | 08:31 | 09:27',
        'Perranarworthal | 06:36 | 07:40 | 08:42 | 09:36',
        'Truro, Bus Station | 06:52 | 07:58 | 09:01 | 09:52',
      ].join('\n'),
    );
    expect(text).toContain('Saturday — towards Falmouth\nStop | 0900 | 1100 | 1300 Sch');
    expect(text).toContain('## Fares\n\nTicket | Adult | Child (5–15)\nSingle, any distance | £2.00 | £1.00');
    expect(text).toContain('Weekly | £22.00 | £14.00');
    for (const never of NEVER) expect(text).not.toContain(never);
  });

  it('broken markup: unclosed paragraphs, list items and cells, a mismatched heading, entities — all the notices, in order', () => {
    const { title, text } = page('broken');
    expect(title).toBe('Parish notices & events');
    const order = [
      'St Mawes Parish Council',
      '## Notices & Events',
      'The next council meeting is on Tuesday 7th April at 7.30pm in the Victory Hall.',
      'Agenda items must reach the clerk by Friday – email clerk@stmawes-pc.example',
      '- Harbour car park charges\n- Footpath repairs at Castle Drive\n- Christmas lights équipe – volunteers needed',
      'Beach clean: Saturday 11th, meet at the quay 10am. Bring gloves!!',
      'Planning application PA26/00312 — extension at 4 Tredenham Rd',
      'Comments by 20 April 2026',
      'Contact: Jo Pascoe <clerk> tel. 01326 270000',
      'Last updated 2 April 2026 © St Mawes PC',
    ];
    let at = 0;
    for (const line of order) {
      const found = text.indexOf(line, at);
      expect(found, `${line}\n--- in ---\n${text}`).toBeGreaterThanOrEqual(at);
      at = found + line.length;
    }
    expect(text).toContain('Home (https://site.example/dir/index.htm)');
    for (const never of ['Sign up to our newsletter', 'document.write', 'Jumble sale cancelled', 'x = ']) {
      expect(text).not.toContain(never);
    }
  });
});
