import type { AnyStateNode } from 'xstate';
import { pathwayMachine } from './pathway';

/*
 * A Mermaid state diagram generated from the machine definition, so the picture in the docs can
 * never drift from the code. Transient states (screening, the support routers, resuming) are drawn
 * as choice points; transitions that stay in their state are drawn as one self-loop per state.
 */

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return (Object.values(node.states) as AnyStateNode[]).flatMap((child) => [child, ...allNodes(child)]);
}

// Mermaid ids: a state's key where it is unique (most are), else its path, so the diagram reads
// like the code without needing a label per state.
const keyCounts = new Map<string, number>();
for (const node of allNodes(pathwayMachine.root)) keyCounts.set(node.key, (keyCounts.get(node.key) ?? 0) + 1);
const name = (node: AnyStateNode) => (keyCounts.get(node.key) === 1 ? node.key : node.path.join('_'));

function guardLabel(guard: unknown): string | undefined {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && 'type' in guard) {
    const { type, params } = guard as { type: string; params?: Record<string, unknown> };
    const args = params && typeof params === 'object' ? Object.values(params).join(' ') : '';
    return args ? `${type} ${args}` : type;
  }
  return undefined;
}

function label(event: string, guard: unknown): string {
  const g = guardLabel(guard);
  const text = event === 'always' ? (g ? `[${g}]` : '') : g ? `${event} [${g}]` : event;
  // Mermaid ends a label at ':' and reads ';' as a statement break.
  return text.replace(/[:;]/g, ' ');
}

const arrow = (from: string, to: string, text: string) => (text ? `${from} --> ${to}: ${text}` : `${from} --> ${to}`);

function isChoice(node: AnyStateNode): boolean {
  return node.always !== undefined && node.always.length > 0 && Object.keys(node.on ?? {}).length === 0 && node.type === 'atomic';
}

export interface MermaidOptions {
  /** State node ids to mark as unreachable under the policy being drawn. */
  unreachable?: readonly string[];
}

export function toMermaid(options: MermaidOptions = {}): string {
  const lines: string[] = ['stateDiagram-v2'];
  const edges: string[] = [];
  const unreachable = new Set(options.unreachable ?? []);

  const declare = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (children.length === 0) {
      lines.push(`${indent}state ${name(node)}${isChoice(node) ? ' <<choice>>' : ''}`);
      return;
    }
    lines.push(`${indent}state ${name(node)} {`);
    if (node.type === 'parallel') {
      children.forEach((child, i) => {
        if (i > 0) lines.push(`${indent}  --`);
        declare(child, `${indent}  `);
      });
    } else {
      const initial = node.initial?.target[0];
      if (initial) lines.push(`${indent}  [*] --> ${name(initial)}`);
      for (const child of children) declare(child, `${indent}  `);
    }
    lines.push(`${indent}}`);
  };

  const connect = (node: AnyStateNode) => {
    const selfLoop = new Set<string>();
    const add = (event: string, guard: unknown, targets: readonly AnyStateNode[] | undefined) => {
      if (!targets || targets.length === 0) {
        selfLoop.add(label(event, undefined));
        return;
      }
      for (const target of targets) edges.push(arrow(name(node), name(target), label(event, guard)));
    };
    for (const [event, list] of node.transitions) for (const t of list) add(event, t.guard, t.target);
    for (const t of node.always ?? []) add('always', t.guard, t.target);
    if (selfLoop.size > 0) edges.push(arrow(name(node), name(node), [...selfLoop].join(', ')));
    for (const child of Object.values(node.states) as AnyStateNode[]) connect(child);
  };

  const root = pathwayMachine.root;
  const top = Object.values(root.states) as AnyStateNode[];
  lines.push(`  [*] --> ${name(root.initial!.target[0]!)}`);
  for (const node of top) declare(node, '  ');
  for (const node of top) connect(node);
  for (const node of top) if (node.type === 'final') edges.push(`${name(node)} --> [*]`);
  lines.push(...edges.map((e) => `  ${e}`));
  if (unreachable.size > 0) {
    lines.push('  classDef unreachable fill:#fdd,stroke:#c00,stroke-dasharray: 4 2');
    for (const id of unreachable) lines.push(`  class ${name(pathwayMachine.getStateNodeById(id))} unreachable`);
  }
  return lines.join('\n');
}
