// What every benchmark shares: flags, percentiles from raw samples, goals, progress lines, the
// machine and versions a figure was measured on, CPU shares per process, and the JSON results.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const root = resolve(__dirname, '..');
export const resultsDir = join(root, 'bench', 'results');

// ---- Flags -----------------------------------------------------------------------------------------

type FlagValue = string | number | boolean;
export interface FlagSpec<V extends FlagValue = FlagValue> {
  default: V;
  help: string;
}
export const num = (value: number, help: string): FlagSpec<number> => ({ default: value, help });
export const str = (value: string, help: string): FlagSpec<string> => ({ default: value, help });
export const bool = (value: boolean, help: string): FlagSpec<boolean> => ({ default: value, help });

type Parsed<S extends Record<string, FlagSpec>> = { [K in keyof S]: S[K]['default'] extends number ? number : S[K]['default'] extends boolean ? boolean : string };

/** `--name value` flags with typed defaults; `--help` prints them and exits. */
export function flags<S extends Record<string, FlagSpec>>(usage: string, spec: S, argv = process.argv.slice(2)): Parsed<S> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, s] of Object.entries(spec)) options[name] = { type: typeof s.default === 'boolean' ? 'boolean' : 'string' };
  for (const [name, s] of Object.entries(spec)) if (typeof s.default === 'boolean') options[`no-${name}`] = { type: 'boolean' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(usage);
    for (const [name, s] of Object.entries(spec)) console.log(`  --${name.padEnd(22)} ${s.help} (default ${JSON.stringify(s.default)})`);
    process.exit(0);
  }
  const out: Record<string, FlagValue> = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = values[name];
    if (typeof s.default === 'boolean') out[name] = values[`no-${name}`] ? false : raw === undefined ? s.default : Boolean(raw);
    else if (typeof s.default === 'number') {
      const n = raw === undefined ? s.default : Number(raw);
      if (!Number.isFinite(n)) throw new Error(`--${name} takes a number, not ${JSON.stringify(raw)}`);
      out[name] = n;
    } else out[name] = raw === undefined ? s.default : String(raw);
  }
  return out as Parsed<S>;
}

// ---- Statistics ------------------------------------------------------------------------------------

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
}

/** Nearest-rank percentile of raw samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    mean,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    min: sorted[0] ?? NaN,
  };
}

/** Least-squares slope and intercept of y on x. */
export function linearFit(points: ReadonlyArray<{ x: number; y: number }>): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
export const ms = (x: number) => `${fmt(x, x < 10 ? 2 : 1)} ms`;
export const mib = (bytes: number) => `${fmt(bytes / 2 ** 20, 0)} MiB`;
export const latencyLine = (s: Summary) => `p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (n=${s.n})`;

// ---- Goals -----------------------------------------------------------------------------------------

export interface Goal {
  name: string;
  /** e.g. '>= 20/s'; `met` compares `value` against `limit` in `direction`. */
  target: string;
  value: number;
  unit: string;
  met: boolean;
}

export function goal(name: string, value: number, direction: '>=' | '<=', limit: number, unit: string): Goal {
  const met = direction === '>=' ? value >= limit : value <= limit;
  return { name, target: `${direction} ${limit} ${unit}`.trim(), value, unit, met };
}

export function printGoals(goals: readonly Goal[]): void {
  for (const g of goals) console.log(`  GOAL ${g.name}: ${fmt(g.value, 2)} ${g.unit} (target ${g.target}) ${g.met ? 'MET' : 'NOT MET'}`);
}

// ---- Progress ----------------------------------------------------------------------------------------

/** A status line every `everyMs` while a long phase runs; stop() ends it. */
export function progress(label: string, line: () => string, everyMs = 5000): { stop(): void } {
  const started = Date.now();
  const timer = setInterval(() => console.log(`  [${label} ${fmt((Date.now() - started) / 1000, 0)}s] ${line()}`), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` in flight, starting each as a slot frees. */
export async function pool<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failure: unknown;
  const lane = async () => {
    for (let next = it.next(); !next.done && failure === undefined; next = it.next()) {
      try {
        await fn(next.value);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  if (failure !== undefined) throw failure;
}

// ---- Load ------------------------------------------------------------------------------------------

export interface LoadResult {
  label: string;
  mode: string;
  seconds: number;
  completed: number;
  failed: number;
  /**
   * Completed operations per second: over the schedule's window in an open loop (all of them
   * completing means the rate was sustained), over the time taken in a closed loop.
   */
  rate: number;
  latency: Summary;
  errors: Record<string, number>;
  /** Operations that could not start on schedule because `concurrency` were already in flight. */
  lateStarts: number;
}

/**
 * Runs `op` for `seconds`: open loop at `rate` per second (capped at `concurrency` in flight), or
 * with `rate` 0 closed loop, `concurrency` callers back to back. Latency is each call's own time;
 * a progress line every `progressMs` gives the last window's rate and tail.
 */
export async function runLoad(opts: { label: string; seconds: number; rate: number; concurrency: number; op: (i: number) => Promise<void>; progressMs?: number }): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let inFlight = 0;
  let started = 0;
  let lateStarts = 0;
  let window: number[] = [];
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  const one = async (i: number) => {
    const s = performance.now();
    inFlight++;
    try {
      await opts.op(i);
      const l = performance.now() - s;
      latencies.push(l);
      window.push(l);
    } catch (err) {
      failed++;
      const key = `${(err as Error)?.name ?? 'Error'}: ${String((err as Error)?.message ?? err).slice(0, 120)}`;
      errors[key] = (errors[key] ?? 0) + 1;
    } finally {
      inFlight--;
    }
  };
  let lastWindowAt = t0;
  const ticker = progress(opts.label, () => {
    const now = performance.now();
    const w = summarize(window);
    const line = `${latencies.length} done, ${failed} failed; last ${fmt((now - lastWindowAt) / 1000, 0)}s: ${fmt(w.n / ((now - lastWindowAt) / 1000))}/s, p50 ${ms(w.p50)}, p99 ${ms(w.p99)}; in flight ${inFlight}`;
    window = [];
    lastWindowAt = now;
    return line;
  }, opts.progressMs ?? 5000);
  const running = new Set<Promise<void>>();
  const launch = (i: number) => {
    const p = one(i).finally(() => running.delete(p));
    running.add(p);
  };
  if (opts.rate > 0) {
    for (;;) {
      const now = performance.now();
      if (now >= end) break;
      const due = Math.floor(((now - t0) / 1000) * opts.rate);
      let waited = false;
      while (started < due && performance.now() < end) {
        if (inFlight >= opts.concurrency) {
          if (!waited) lateStarts++;
          waited = true;
          await Promise.race(running);
          continue;
        }
        waited = false;
        launch(started++);
      }
      await sleep(Math.max(1, 1000 / opts.rate / 2));
    }
  } else {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (performance.now() < end) await one(started++);
      }),
    );
  }
  await Promise.all(running);
  ticker.stop();
  const seconds = (performance.now() - t0) / 1000;
  const result: LoadResult = {
    label: opts.label,
    mode: opts.rate > 0 ? `open loop at ${opts.rate}/s (at most ${opts.concurrency} in flight)` : `closed loop, ${opts.concurrency} callers`,
    seconds,
    completed: latencies.length,
    failed,
    rate: latencies.length / (opts.rate > 0 ? opts.seconds : seconds),
    latency: summarize(latencies),
    errors,
    lateStarts,
  };
  // Raw samples for merging slices; left out of the JSON results.
  Object.defineProperty(result, 'samples', { value: latencies, enumerable: false });
  return result;
}

/** Slices of one load (taking turns with another) as one result. */
export function mergeLoads(label: string, parts: LoadResult[]): LoadResult {
  const samples = parts.flatMap((p) => (p as LoadResult & { samples?: number[] }).samples ?? []);
  const errors: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + n;
  const seconds = parts.reduce((s, p) => s + p.seconds, 0);
  const completed = parts.reduce((s, p) => s + p.completed, 0);
  return {
    label,
    mode: `${parts[0]?.mode ?? ''}, ${parts.length} slices taking turns`,
    seconds,
    completed,
    failed: parts.reduce((s, p) => s + p.failed, 0),
    rate: completed / seconds,
    latency: summarize(samples),
    errors,
    lateStarts: parts.reduce((s, p) => s + p.lateStarts, 0),
  };
}

export function printLoad(r: LoadResult): void {
  console.log(`  ${r.label} (${r.mode}, ${fmt(r.seconds, 0)} s): ${fmt(r.rate)}/s sustained, ${r.completed} done, ${r.failed} failed${r.lateStarts ? `, ${r.lateStarts} late starts` : ''}`);
  console.log(`    latency ${latencyLine(r.latency)}`);
  for (const [e, n] of Object.entries(r.errors)) console.log(`    error x${n}: ${e}`);
}

// ---- CPU shares ----------------------------------------------------------------------------------

const CLOCK_TICKS = 100;

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}

export interface CpuShares {
  seconds: number;
  /** Per named process: % of one core over the window (200% = both cores of a 2-core machine). */
  processes: Record<string, number>;
  /** Whole machine, every process included (other engineers' too): % of all cores. */
  machineBusy: number;
}

/**
 * A process and every process under it (PostgreSQL's backends under its postmaster), with what
 * its children that have already exited used (cutime and cstime, fields 16 and 17 of stat).
 */
function treeTicks(root: number): number | undefined {
  const own = processTicks(root);
  if (own === undefined) return undefined;
  let total = own;
  try {
    const stat = readFileSync(`/proc/${root}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += Number(fields[13]) + Number(fields[14]);
  } catch {
    // gone between the two reads: its own ticks stand
  }
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while listed
    }
  }
  const queue = [...(parents.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    total += processTicks(pid) ?? 0;
    queue.push(...(parents.get(pid) ?? []));
  }
  return total;
}

/** What a CPU share is taken of: one process, or a process with everything under it. */
export type CpuSubject = number | { tree: number } | undefined;
const ticksOf = (s: CpuSubject) => (s === undefined ? undefined : typeof s === 'number' ? processTicks(s) : treeTicks(s.tree));

/** CPU used by each named process between start and stop, from /proc: which one is the bottleneck. */
export function cpuMonitor(pids: Record<string, CpuSubject>): { stop(): CpuShares } {
  const start = Date.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ticksOf(pid)]));
  const m0 = machineTicks();
  return {
    stop() {
      const seconds = (Date.now() - start) / 1000;
      const processes: Record<string, number> = {};
      for (const [k, pid] of Object.entries(pids)) {
        const a = before[k];
        const b = ticksOf(pid);
        if (a !== undefined && b !== undefined) processes[k] = ((b - a) / CLOCK_TICKS / seconds) * 100;
      }
      const m1 = machineTicks();
      const machineBusy = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100;
      return { seconds, processes, machineBusy };
    },
  };
}

export function cpuLine(c: CpuShares): string {
  const parts = Object.entries(c.processes).map(([k, v]) => `${k} ${fmt(v, 0)}%`);
  return `CPU (% of one core): ${parts.join(', ')}; machine ${fmt(c.machineBusy, 0)}% busy of ${availableParallelism()} cores`;
}

/** Resident set size of a process, from /proc (what the OS charges it, all threads included). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? NaN) * 1024;
}

// ---- Environment and results ----------------------------------------------------------------------

function versionOf(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export interface Environment {
  date: string;
  nproc: number;
  cpuModel: string;
  memTotal: string;
  memFree: string;
  loadavg: number[];
  node: string;
  temporalSdk: string;
  temporalCli: string;
  xstate: string;
  zod: string;
  commit: string;
}

export function environment(cliVersion = 'v1.5.1'): Environment {
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotal: mib(totalmem()),
    memFree: mib(freemem()),
    loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    node: process.version,
    temporalSdk: versionOf('@temporalio/worker'),
    temporalCli: cliVersion,
    xstate: versionOf('xstate'),
    zod: versionOf('zod'),
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'workflows', 'machines', 'worker', 'client', 'activities', 'codec']) ? '+local changes' : ''}`,
  };
}

export function printEnvironment(name: string, env: Environment, notes: string[] = []): void {
  console.log(`bench:${name}  ${env.date}`);
  console.log(`  machine: ${env.nproc} cores (${env.cpuModel}), ${env.memTotal} RAM, load ${env.loadavg.join(' ')}`);
  console.log(`  versions: node ${env.node}, @temporalio ${env.temporalSdk}, temporal CLI ${env.temporalCli}, xstate ${env.xstate}, commit ${env.commit}`);
  for (const note of notes) console.log(`  ${note}`);
}

/**
 * Writes `bench/results/<name>.json` (the latest run) and appends it to `history.jsonl`, so a
 * table in docs/benchmarks.md can be rebuilt from runs rather than from memory.
 */
export function writeResults(name: string, result: { environment: Environment; params: object; figures: object; goals: Goal[]; notes?: string[] }): string {
  mkdirSync(resultsDir, { recursive: true });
  const body = { bench: name, ...result, loadavgAfter: loadavg().map((x) => Number(x.toFixed(2))) };
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  appendFileSync(join(resultsDir, 'history.jsonl'), `${JSON.stringify(body)}\n`);
  console.log(`  load after: ${body.loadavgAfter.join(' ')}; results: ${file.slice(root.length + 1)}`);
  return file;
}

export function readResults(name: string): unknown {
  const file = join(resultsDir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** Ends the process with a message rather than a stack when a bench cannot run. */
export function main(run: () => Promise<void>): void {
  run().then(
    () => process.exit(process.exitCode ?? 0),
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
}
