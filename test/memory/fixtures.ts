// The notes of an OpenClaw-style workspace (MEMORY.md and three daily notes) and the memory
// settings the memory tests share.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryConfig } from '../../config/config.js';

export const MEMORY_MD = `# Memory

## People
- My daughter is called Ana; she was born in 2016 and loves horses.
- My partner Sam is allergic to peanuts.

## Preferences
- I prefer metric units and 24-hour times.
- Flights: aisle seat, vegetarian meal.
`;

export const NOTES: Record<string, string> = {
  'memory/2026-03-02.md': `# 2026-03-02

## Work
- Project Phoenix: the deadline moved to 30 September; Maria owns the launch plan.
- Invoice INV-2024-0087 from Acme Corp is still unpaid; chase it on Friday.
`,
  'memory/2026-03-03.md': `# 2026-03-03

## Home
- The boiler was serviced by Heatwise; the next service is due in March next year.
- Recycling is collected on Thursdays, general waste on Mondays.
`,
  'memory/2026-03-04.md': `# 2026-03-04

## Health
- Dentist appointment with Dr. Patel on 12 April at 09:30.
- Started running again: 5 km on Tuesdays and Saturdays.
`,
};

export function memoryConfig(home: string, over: Partial<MemoryConfig> = {}): MemoryConfig {
  return {
    enabled: true,
    backend: 'sqlite',
    dir: join(home, 'memory'),
    embedding: { provider: 'local' },
    chunking: {},
    search: { maxResults: 6, minScore: 0.25, vectorWeight: 0.7, textWeight: 0.3, candidateMultiplier: 4 },
    qdrant: { collection: 'switchyard-memory' },
    ...over,
  };
}

export function writeWorkspace(workspace: string): void {
  mkdirSync(join(workspace, 'memory'), { recursive: true });
  writeFileSync(join(workspace, 'MEMORY.md'), MEMORY_MD);
  for (const [path, text] of Object.entries(NOTES)) writeFileSync(join(workspace, path), text);
}
