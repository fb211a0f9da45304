/** Mermaid flowchart of a compiled pipeline (`switchyard pipelines graph`). */
import { formatDuration } from './duration.js';
import type { Block, PipelineIR, Step } from './ir.js';

export function renderMermaid(ir: PipelineIR): string {
  const lines = ['flowchart TD', `  start__(["${esc(ir.name)}"])`, '  end__(["end"])'];
  const { roots, leaves } = renderBlock(ir.steps, lines, '  ');
  for (const r of roots) lines.push(`  start__ --> ${node(r)}`);
  for (const l of leaves) lines.push(`  ${node(l)} --> end__`);
  return `${lines.join('\n')}\n`;
}

function node(id: string): string {
  return `s_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function esc(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'));
}

function renderBlock(block: Block, lines: string[], indent: string): { roots: string[]; leaves: string[] } {
  const needed = new Set(block.flatMap((s) => s.after));
  for (const step of block) {
    renderStep(step, lines, indent);
    for (const dep of step.after) lines.push(`${indent}${node(dep)} --> ${node(step.id)}`);
  }
  return {
    roots: block.filter((s) => s.after.length === 0).map((s) => s.id),
    leaves: block.filter((s) => !needed.has(s.id)).map((s) => s.id),
  };
}

function label(step: Step): string {
  const title = step.name ?? step.id;
  const cond = `${step.if ? `<br/>if ${step.if.cel}` : ''}${step.approval ? '<br/><i>approval required</i>' : ''}`;
  switch (step.kind) {
    case 'uses': {
      const tools = step.pipelineTools?.length
        ? `<br/><i>pipeline tools: ${step.pipelineTools.map((t) => t.name).join(', ')}</i>`
        : '';
      return `${title}<br/><i>${step.type}</i>${tools}${cond}`;
    }
    case 'call':
      return `${title}<br/><i>call ${step.pipeline}</i>${cond}`;
    case 'wait':
      return `${title}<br/><i>wait ${step.duration !== undefined ? formatDuration(step.duration) : 'until'}</i>${cond}`;
    case 'wait_for':
      return `${title}<br/><i>wait for ${step.signal}${step.timeout !== undefined ? ` (${formatDuration(step.timeout)})` : ''}</i>${cond}`;
    case 'raise':
      return `${title}<br/><i>raise ${step.error}</i>${cond}`;
    default:
      return `${title}<br/><i>${step.kind}</i>${cond}`;
  }
}

function renderStep(step: Step, lines: string[], indent: string) {
  const text = esc(label(step)).replace(/#lt;(\/?)(br\/|i)#gt;/g, '<$1$2>');
  const branches: Array<{ name: string; steps: Block }> = [];
  switch (step.kind) {
    case 'switch':
      for (const c of step.cases) branches.push({ name: `when ${c.when.cel}`, steps: c.steps });
      if (step.default) branches.push({ name: 'default', steps: step.default });
      break;
    case 'parallel':
      for (const b of step.branches) branches.push({ name: b.name, steps: b.steps });
      break;
    case 'foreach':
      branches.push({ name: `each ${step.as} (max ${step.concurrency} at once)`, steps: step.steps });
      break;
    case 'try':
      branches.push({ name: 'try', steps: step.steps });
      if (step.catch)
        branches.push({ name: `catch ${step.catch.errors.join(', ') || 'any'}`, steps: step.catch.steps });
      if (step.finally) branches.push({ name: 'finally', steps: step.finally });
      break;
    case 'wait_for':
      if (step.onTimeout) branches.push({ name: 'on timeout', steps: step.onTimeout });
      break;
    default:
      break;
  }
  if (branches.length === 0) {
    const shape = step.kind === 'return' || step.kind === 'raise' ? ['[/', '/]'] : ['["', '"]'];
    const [open, close] = step.kind === 'return' || step.kind === 'raise' ? ['[/"', '"/]'] : shape;
    lines.push(`${indent}${node(step.id)}${open}${text}${close}`);
    return;
  }
  lines.push(`${indent}subgraph ${node(step.id)}["${text}"]`);
  branches.forEach((b, i) => {
    const bid = `${node(step.id)}__${i}`;
    lines.push(`${indent}  subgraph ${bid}["${esc(b.name)}"]`);
    if (b.steps.length === 0) lines.push(`${indent}    ${bid}_empty[" "]`);
    renderBlock(b.steps, lines, `${indent}    `);
    lines.push(`${indent}  end`);
  });
  lines.push(`${indent}end`);
}
