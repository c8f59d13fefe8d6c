// What a grown case's own state weighs on the heap, apart from the worker that holds it: the
// pathway machine's snapshot after twelve weeks of an ordinary case (bench/journey.ts) and the
// events that brought it there (the source of its timeline), held for N cases and weighed with the
// garbage collected. Run by bench/memory.ts in a process of its own, with --expose-gc, so the
// figure says how much of a grown case's RSS in the worker is the case and how much is the
// sandbox and garbage its threads have not yet collected.
import { initialTransition, transition } from 'xstate';
import { graphInput } from '../machines/graph';
import { defaultPolicy, pathwayMachine } from '../machines';
import { journey } from './journey';

export interface CaseStateFigures {
  cases: number;
  /** Heap bytes per case, snapshot and events together. */
  perCaseBytes: number;
  /** The snapshot's context as JSON, for scale. */
  contextJsonBytes: number;
  stage: string;
}

function weigh(cases: number): CaseStateFigures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: Array<{ snapshot: ReturnType<typeof initialTransition>[0]; events: unknown[] }> = [];
  for (let i = 0; i < cases; i++) {
    const input = graphInput(defaultPolicy);
    // Up to the review: the case is at its fullest while it waits for it.
    const events = journey(input.at).filter((e) => e.type !== 'DEADLINE.REVIEW' && e.type !== 'REVIEW.RECORD');
    let [snapshot] = initialTransition(pathwayMachine, input);
    for (const e of events) [snapshot] = transition(pathwayMachine, snapshot, e);
    kept.push({ snapshot, events });
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const first = kept[0]!.snapshot;
  return { cases, perCaseBytes: (after - before) / cases, contextJsonBytes: JSON.stringify(first.context).length, stage: JSON.stringify(first.value) };
}

if (process.argv.includes('--weigh')) {
  const n = Number(process.argv[process.argv.indexOf('--weigh') + 1] ?? 2000);
  console.log(JSON.stringify(weigh(n)));
}
