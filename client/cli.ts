// `pathway`: the supervisor's command line, built on the client SDK. Tables for people, `--json` for
// scripts, and exit codes a script can branch on (see EXIT below and `pathway --help`).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { OUTBOX_CHANNELS } from '../activities/sink';
import { defaultOutboxDir, OUTBOX_FILE, OutboxCorruptError, OutboxSealedError, readOutboxFile } from '../activities/outbox';
import { CodecKeyError, loadCodecFromEnv } from '../codec';
import { recordsToCsv, reportToCsv, reportToHtml } from '../evidence';
import { caseWorkflowId } from '../workflows/definitions';
import { checkPolicy } from '../machines/check';
import { COMMAND_TYPES, PolicyError, STAGES, actorSchema, parsePolicy, scalePolicy, type Actor, type CommandType } from '../machines';
import { historyFiles, replayHistories } from './replay';
import { PathwayClient, type ConnectOptions, type ReferralResult } from './client';
import {
  CaseNotFoundError,
  CommandConflictError,
  CommandRefusedError,
  ConfigurationError,
  ConflictingReferralError,
  ConnectionNotFoundError,
  ConnectionRefusedError,
  ConsentRequiredError,
  InvalidInputError,
  PathwayError,
  SchemeNotFoundError,
} from './errors';
import { addConnectionCommands } from './cli-connections';
import { addDirectoryCommands } from './cli-directory';
import { caseDetail, caseloadsTable, casesTable, escalationRef, escalationsTable, time } from './format';

export const EXIT = {
  ok: 0,
  /** Anything unexpected: the server unreachable, a bug. */
  failure: 1,
  /** The command line or the input file was wrong. */
  usage: 2,
  notFound: 3,
  /** The pathway refused the move, or the referral id is taken by a different referral. */
  refused: 4,
  /** Keys or connection settings missing or wrong. */
  configuration: 5,
  /** `pathway check` found problems in the policy or a recorded history that no longer replays. */
  problems: 6,
} as const;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** How to get a client; tests pass their own connection settings through here. */
  connect(options: ConnectOptions): Promise<PathwayClient>;
}

interface GlobalOptions {
  address?: string;
  namespace?: string;
  profile?: string;
  configFile?: string;
  apiKey?: string;
  tls?: boolean;
  taskQueue?: string;
  json?: boolean;
  connectTimeout?: number;
}

const PACKAGE_NAME = 'social-prescribing-engine';

/** The package's own folder, from the source or from dist/, for its git-ignored dev keys. */
function packageRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
  }
  return resolve(__dirname, '..');
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function isLocal(options: GlobalOptions, env: Record<string, string | undefined>): boolean {
  const configured = options.address ?? env['TEMPORAL_ADDRESS'];
  if (configured !== undefined) return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(configured);
  return !(options.profile || options.configFile || env['TEMPORAL_PROFILE'] || env['TEMPORAL_CONFIG_FILE']);
}

/** The exit code and the words for an error, never a stack unless PATHWAY_DEBUG is set. */
function describe(err: unknown, debug: boolean): { code: number; text: string } {
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  if (err instanceof InvalidInputError) return { code: EXIT.usage, text: `${err.what} is invalid:\n${err.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}${stack}` };
  if (err instanceof PolicyError) return { code: EXIT.usage, text: err.message + stack };
  if (err instanceof CaseNotFoundError || err instanceof SchemeNotFoundError || err instanceof ConnectionNotFoundError) return { code: EXIT.notFound, text: err.message + stack };
  if (err instanceof CommandRefusedError || err instanceof ConnectionRefusedError || err instanceof ConflictingReferralError || err instanceof ConsentRequiredError || err instanceof CommandConflictError) {
    return { code: EXIT.refused, text: err.message + stack };
  }
  if (err instanceof ConfigurationError) return { code: EXIT.configuration, text: err.message + stack };
  if (err instanceof PathwayError) return { code: EXIT.failure, text: err.message + stack };
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT.failure, text: message + stack };
}

class UsageError extends Error {}

function caseIdOf(idOrReferral: string): string {
  return idOrReferral.startsWith('case-') ? idOrReferral : caseWorkflowId(idOrReferral);
}

function staffActor(role: Actor['role'], by: string | undefined, env: Record<string, string | undefined>): Actor {
  const id = by ?? env['PATHWAY_STAFF_ID'];
  if (!id) throw new UsageError(`say who is acting: --by <staff id>, or set PATHWAY_STAFF_ID`);
  const parsed = actorSchema.safeParse({ role, id });
  if (!parsed.success) throw new UsageError(`--by: must be a staff id of letters, digits, ".", "_", ":" or "-"`);
  return parsed.data;
}

async function readJson(path: string, cwd: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
}

/** `2025-01-31` (UTC midnight) or an ISO date-time. */
function instant(text: string, flag: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: not a date (YYYY-MM-DD) or date-time`);
  return ms;
}

export function buildProgram(io: CliIo, state: { client?: PathwayClient; code: number }): Command {
  const program = new Command('pathway')
    .description('Supervise social prescribing cases: lists, escalations, caseloads, approvals and reports.')
    .version(packageVersion(), '-V, --version')
    .addOption(new Option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS, the profile, or localhost:7233)'))
    .addOption(new Option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or default)'))
    .addOption(new Option('--profile <name>', 'envconfig profile, as the temporal CLI uses (TEMPORAL_PROFILE)'))
    .addOption(new Option('--config-file <path>', 'envconfig TOML file (TEMPORAL_CONFIG_FILE)'))
    .addOption(new Option('--api-key <key>', 'API key (TEMPORAL_API_KEY); implies TLS'))
    .addOption(new Option('--tls', 'use TLS with system roots'))
    .addOption(new Option('--task-queue <name>', 'the pathway worker\'s task queue (PATHWAY_TASK_QUEUE)'))
    .option('--json', 'print JSON instead of tables')
    .option('--connect-timeout <seconds>', 'give up on an unanswering server after this long (default 10)', (v) => {
      if (!(Number(v) > 0)) throw new UsageError('--connect-timeout: must be a positive number of seconds');
      return Number(v);
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `\nExit codes: 0 ok, 1 failure (e.g. server unreachable), 2 bad command line or input, 3 not found,\n` +
        `4 refused by the pathway (or conflicting referral), 5 configuration (keys, connection settings),\n` +
        `6 \`pathway check\` found problems.\n` +
        `Keys: PATHWAY_CODEC_KEYS or PATHWAY_CODEC_KEY_FILE (payload encryption, as the worker) and PATHWAY_PERSON_KEY;\n` +
        `against a local dev server the dev keys \`npm start\` minted in .cache/ are used.`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = async (): Promise<PathwayClient> => {
    if (state.client) return state.client;
    const g = globals();
    state.client = await io.connect({
      env: io.env,
      ...(g.address !== undefined && { address: g.address }),
      ...(g.namespace !== undefined && { namespace: g.namespace }),
      ...(g.profile !== undefined && { profile: g.profile }),
      ...(g.configFile !== undefined && { configFile: g.configFile }),
      ...(g.apiKey !== undefined && { apiKey: g.apiKey }),
      ...(g.tls && { tls: true }),
      ...(g.taskQueue !== undefined && { taskQueue: g.taskQueue }),
      ...(g.connectTimeout !== undefined && { connectTimeoutMs: g.connectTimeout * 1000 }),
      ...(isLocal(g, io.env) && { devKeyDir: join(packageRoot(), '.cache', 'codec') }),
    });
    return state.client;
  };
  const print = (data: unknown, text: () => string) => io.out(globals().json ? JSON.stringify(data, null, 2) : text());
  const now = () => Date.now();

  program
    .command('cases')
    .description('list cases (newest first) from visibility')
    .option('--scheme <id>', 'scheme')
    .addOption(new Option('--stage <stage>', 'stage').choices([...STAGES]))
    .option('--link-worker <id>', 'link worker')
    .option('--tier <id>', 'tier')
    .option('--overdue', 'only cases with a deadline past and not yet acted on')
    .option('--no-overdue', 'only cases with nothing overdue')
    .option('--escalated', 'only cases with an open escalation')
    .option('--no-escalated', 'only cases without one')
    .option('--possible-duplicate', 'only cases flagged as a possible duplicate person, not yet resolved')
    .option('--no-possible-duplicate', 'only cases without such a flag')
    .option('--open', 'only open cases')
    .option('--closed', 'only closed cases')
    .option('--limit <n>', 'at most this many', (v) => {
      if (!/^\d+$/.test(v)) throw new UsageError('--limit: must be a whole number');
      return Number(v);
    })
    .action(async (o: { scheme?: string; stage?: string; linkWorker?: string; tier?: string; overdue?: boolean; escalated?: boolean; possibleDuplicate?: boolean; open?: boolean; closed?: boolean; limit?: number }) => {
      if (o.open && o.closed) throw new UsageError('--open and --closed together match nothing');
      const cases = await (await client()).listCases({
        ...(o.scheme !== undefined && { scheme: o.scheme }),
        ...(o.stage !== undefined && { stage: o.stage as never }),
        ...(o.linkWorker !== undefined && { linkWorker: o.linkWorker }),
        ...(o.tier !== undefined && { tier: o.tier }),
        ...(o.overdue !== undefined && { overdue: o.overdue }),
        ...(o.escalated !== undefined && { escalated: o.escalated }),
        ...(o.possibleDuplicate !== undefined && { possibleDuplicate: o.possibleDuplicate }),
        ...(o.open && { open: true }),
        ...(o.closed && { open: false }),
        ...(o.limit !== undefined && { limit: o.limit }),
      });
      print(cases, () => (cases.length ? `${casesTable(cases, now())}\n${cases.length} case(s)` : 'no cases match'));
    });

  program
    .command('case <id>')
    .description('one case: state, deadlines, escalations, timeline (a case id, or the referral id)')
    .action(async (id: string) => {
      const view = await (await client()).getCase(caseIdOf(id));
      print(view, () => caseDetail(view, now()));
    });

  program
    .command('caseloads')
    .description("open cases per link worker against their cap, and the waitlist (every scheme's, or one)")
    .option('--scheme <id>', 'scheme')
    .action(async (o: { scheme?: string }) => {
      const c = await client();
      const loads = o.scheme !== undefined ? [await c.caseloads(o.scheme)] : await c.allCaseloads();
      print(o.scheme !== undefined ? loads[0] : loads, () => (loads.length ? loads.map(caseloadsTable).join('\n\n') : 'no schemes have a roster yet'));
    });

  program
    .command('escalations')
    .description('open escalations, oldest first')
    .option('--scheme <id>', 'scheme')
    .action(async (o: { scheme?: string }) => {
      const items = await (await client()).escalations(o.scheme !== undefined ? { scheme: o.scheme } : {});
      print(items, () => (items.length ? escalationsTable(items, now()) : 'no open escalations'));
    });

  program
    .command('ack <escalation> [escalationId]')
    .description("acknowledge an escalation: '<case>/<esc-id>' as `escalations` prints it, or '<case> <esc-id>'")
    .option('--by <staffId>', 'the supervisor acknowledging (PATHWAY_STAFF_ID)')
    .action(async (ref: string, escId: string | undefined, o: { by?: string }) => {
      const [caseRef, escalationId] = escId !== undefined ? [ref, escId] : ref.split(/\/(?=[^/]+$)/);
      if (!caseRef || !escalationId) throw new UsageError(`'${ref}' is not an escalation: use <case>/<escalation id>, e.g. case-r1/esc-2`);
      const c = await client();
      await c.acknowledgeEscalation(caseIdOf(caseRef), { escalationId, actor: staffActor('supervisor', o.by, io.env) });
      const view = await c.getCase(caseIdOf(caseRef));
      print(view, () => `acknowledged ${escalationRef({ caseId: view.caseId, id: escalationId })}; ${view.openEscalations.length} still open on the case (stage ${view.stage})`);
    });

  program
    .command('approve-extension <case>')
    .description("approve the extension a review asked for; support resumes")
    .option('--by <staffId>', 'the approving supervisor (PATHWAY_STAFF_ID)')
    .action(async (id: string, o: { by?: string }) => {
      const view = await (await client()).approveExtension(caseIdOf(id), { actor: staffActor('supervisor', o.by, io.env) });
      print(view, () => `extension approved for ${view.caseId}; stage ${view.stage}, review due ${time(view.nextDueAt)}`);
    });

  program
    .command('resolve-duplicate <case>')
    .description('answer a possible-duplicate flag: --not-duplicate clears it, --duplicate-of <case> closes this case as a duplicate')
    .option('--not-duplicate', 'a different person: the flag is cleared')
    .option('--duplicate-of <case>', 'the same person as this flagged case: this case closes (reason duplicate)')
    .option('--by <staffId>', 'the supervisor deciding (PATHWAY_STAFF_ID)')
    .action(async (id: string, o: { notDuplicate?: boolean; duplicateOf?: string; by?: string }) => {
      if (Boolean(o.notDuplicate) === (o.duplicateOf !== undefined)) throw new UsageError('say one of --not-duplicate or --duplicate-of <case>');
      const actor = staffActor('supervisor', o.by, io.env);
      const view = await (await client()).resolveDuplicate(
        caseIdOf(id),
        o.notDuplicate ? { resolution: 'notDuplicate', actor } : { resolution: 'duplicate', of: caseIdOf(o.duplicateOf!), actor },
      );
      print(view, () => (o.notDuplicate ? `${view.caseId} is not a duplicate; flag cleared (stage ${view.stage})` : `${view.caseId} closed as a duplicate of ${caseIdOf(o.duplicateOf!)}`));
    });

  program
    .command('refer <file>')
    .description('refer from a JSON file: one referral or a list (see the README for the shape)')
    .option('--policy <file>', 'the scheme policy (JSON) for these referrals')
    .option('--scale <factor>', 'run the policy this many times faster (e.g. 604800: a week a second), for trying things by hand')
    .action(async (file: string, o: { policy?: string; scale?: string }) => {
      const body = await readJson(file, io.cwd);
      const referrals = Array.isArray(body) ? body : [body];
      let policy = o.policy !== undefined ? parsePolicy(await readJson(o.policy, io.cwd)) : undefined;
      if (o.scale !== undefined) {
        const factor = Number(o.scale);
        if (!(factor > 0)) throw new UsageError('--scale: must be a positive number');
        const schemeId = (referrals[0] as { schemeId?: unknown })?.schemeId;
        policy = scalePolicy(policy ?? parsePolicy(typeof schemeId === 'string' ? { schemeId } : {}), factor);
      }
      const c = await client();
      const results: ReferralResult[] = [];
      for (const referral of referrals) results.push(await c.refer(referral as never, policy ? { policy } : {}));
      print(results, () =>
        results
          .map((r) =>
            [
              `${r.created ? 'referred' : 'already referred'}: ${r.case.caseId} (stage ${r.case.stage}${r.case.discharge ? `, ${r.case.discharge.reason}` : ''})`,
              ...r.possibleDuplicates.map((d) => `  possible duplicate of ${d.caseId} (same ${d.match === 'nhsNumber' ? 'NHS number' : 'name and date of birth'})`),
            ].join('\n'),
          )
          .join('\n'),
      );
    });

  program
    .command('send <case> <command> [payload]')
    .description('send any pathway command with a JSON payload (or @file), e.g. send r-1 CONTACT.ATTEMPT \'{"outcome":"reached","channel":"phone"}\' --as linkWorker:lw-1')
    .addHelpText('after', `\nCommands: ${COMMAND_TYPES.join(', ')}`)
    .option('--as <role:id>', "who is acting, e.g. linkWorker:lw-1 (fills the payload's actor when it has none)")
    .action(async (id: string, type: string, payload: string | undefined, o: { as?: string }) => {
      if (!(COMMAND_TYPES as readonly string[]).includes(type)) throw new UsageError(`${type} is not a command; one of ${COMMAND_TYPES.join(', ')}`);
      let body: Record<string, unknown> = {};
      if (payload !== undefined) {
        const parsed = payload.startsWith('@') ? await readJson(payload.slice(1), io.cwd) : safeJson(payload);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('payload: must be a JSON object');
        body = parsed as Record<string, unknown>;
      }
      if (body['actor'] === undefined && o.as !== undefined) {
        const [role, ...rest] = o.as.split(':');
        body['actor'] = { role, id: rest.join(':') };
      }
      const view = await (await client()).send(caseIdOf(id), type as CommandType, body as never);
      print(view, () => `${type} applied to ${view.caseId}: stage ${view.stage}`);
    });

  program
    .command('check <policy>')
    .description('check a scheme policy file before it ships: validity, unreachable stages, dead ends, deadlines, discharge reasons; writes its diagram beside it')
    .option('--out <file>', 'where to write the Mermaid diagram (default: <policy>.pathway.md beside the policy)')
    .option('--replay <dir>', 'also replay the recorded case histories in this folder against the current code')
    .action(async (file: string, o: { out?: string; replay?: string }) => {
      const path = resolve(io.cwd, file);
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(path, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read the policy ${file}: ${(err as Error).message}`);
      }
      const result = checkPolicy(raw);
      const lines: string[] = [];
      if (result.policy && result.diagram) {
        const out = resolve(io.cwd, o.out ?? join(dirname(file), `${basename(file, extname(file))}.pathway.md`));
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, [`# Pathway of scheme ${result.policy.schemeId}`, '', '```mermaid', result.diagram, '```', ''].join('\n'));
        lines.push(`diagram written to ${out}`);
        lines.push(`discharge reasons a case can reach: ${result.reachableDischargeReasons.join(', ')}`);
        lines.push('shortest path to each stage:');
        for (const { stage, steps } of result.shortestPaths) lines.push(`  ${stage}: ${steps.length === 0 ? '(start)' : steps.join(' > ')}`);
      }
      for (const note of result.notes) lines.push(`note: ${note}`);
      let replay: { count: number; failures: string[] } | undefined;
      if (o.replay) {
        const files = historyFiles(resolve(io.cwd, o.replay));
        if (files.length === 0) throw new UsageError(`no recorded histories (*.history.bin, *.json) in ${o.replay}`);
        let codec;
        try {
          codec = await loadCodecFromEnv(io.env, { devKeyDir: join(packageRoot(), '.cache', 'codec') });
        } catch (err) {
          if (err instanceof CodecKeyError) throw new ConfigurationError(err.message);
          throw err;
        }
        replay = await replayHistories(files, codec);
        lines.push(`replayed ${replay.count} recorded histories against the current code: ${replay.failures.length} would break`);
      }
      const problems = [
        ...result.problems,
        ...(replay?.failures ?? []).map((f) => `a running case would break on this code (its history no longer replays): ${f}`),
      ];
      for (const problem of problems) lines.push(`problem: ${problem}`);
      lines.push(problems.length === 0 ? 'policy ok' : `${problems.length} problem(s): fix them before this policy ships`);
      if (globals().json) io.out(JSON.stringify({ ok: problems.length === 0, problems, notes: result.notes, shortestPaths: result.shortestPaths, reachableDischargeReasons: result.reachableDischargeReasons, replay }, null, 2));
      else io.out(lines.join('\n'));
      if (problems.length > 0) state.code = EXIT.problems;
    });

  program
    .command('roster')
    .description("set a scheme's link workers and (optionally) their caps: pathway roster --scheme s1 lw-1 lw-2:10")
    .requiredOption('--scheme <id>', 'scheme')
    .argument('<workers...>', 'link worker ids, each optionally :cap')
    .action(async (workers: string[], o: { scheme: string }) => {
      const roster = workers.map((w) => {
        const [id, cap] = w.split(/:(?=\d+$)/);
        return cap !== undefined ? { id: id!, cap: Number(cap) } : { id: id! };
      });
      const loads = await (await client()).setRoster(o.scheme, roster);
      print(loads, () => caseloadsTable(loads));
    });

  program
    .command('report')
    .description('the cohort report for a scheme and period (referrals in [from, to))')
    .requiredOption('--scheme <id>', 'scheme')
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC) or date-time')
    .option('--to <date>', 'day after the last (exclusive)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv', 'html', 'records-csv']).default('json'))
    .option('--out <file>', 'write here instead of standard output')
    .action(async (o: { scheme: string; from?: string; to?: string; format: string; out?: string }) => {
      const from = o.from !== undefined ? instant(o.from, '--from') : undefined;
      const to = o.to !== undefined ? instant(o.to, '--to') : undefined;
      const result = await (await client()).report({ schemeId: o.scheme, ...(from !== undefined && { from }), ...(to !== undefined && { to }) });
      const body =
        o.format === 'csv'
          ? reportToCsv(result.report)
          : o.format === 'html'
            ? reportToHtml(result.report)
            : o.format === 'records-csv'
              ? recordsToCsv(result.records.filter((r) => (from === undefined || r.dates.referredAt >= from) && (to === undefined || r.dates.referredAt < to)))
              : `${JSON.stringify(result.report, null, 2)}\n`;
      for (const u of result.unreadable) io.err(`warning: ${u.caseId} left out, its outcome record could not be read (${u.error})`);
      if (o.out !== undefined) {
        const path = resolve(io.cwd, o.out);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, body);
        io.out(`wrote ${o.format} report of ${result.report.totals.referrals} referral(s) to ${path}`);
      } else {
        io.out(body.replace(/\n$/, ''));
      }
    });

  const outbox = program.command('outbox').description('the local outbox of notices (.data/outbox, or PATHWAY_OUTBOX_DIR)');
  outbox
    .command('read')
    .description('print the outbox with its notice bodies decrypted (needs the payload key, as the worker)')
    .option('--file <file>', `an outbox file (default: ${OUTBOX_FILE} in PATHWAY_OUTBOX_DIR or .data/outbox)`)
    .option('--case <id>', 'only this case (a case id or a referral id)')
    .addOption(new Option('--channel <channel>', 'only this channel').choices([...OUTBOX_CHANNELS]))
    .action(async (o: { file?: string; case?: string; channel?: string }) => {
      const file = o.file !== undefined ? resolve(io.cwd, o.file) : join(defaultOutboxDir(io.env, io.cwd), OUTBOX_FILE);
      let codec;
      try {
        codec = await loadCodecFromEnv(io.env, isLocal(globals(), io.env) ? { devKeyDir: join(packageRoot(), '.cache', 'codec') } : {});
      } catch (err) {
        if (err instanceof CodecKeyError) throw new ConfigurationError(err.message);
        throw err;
      }
      let messages;
      try {
        messages = await readOutboxFile(file, {
          ...(o.case !== undefined && { caseId: caseIdOf(o.case) }),
          ...(o.channel !== undefined && { channel: o.channel as never }),
        }, codec ? { codec } : {});
      } catch (err) {
        if (err instanceof OutboxSealedError) throw new ConfigurationError(err.message);
        if (err instanceof OutboxCorruptError) throw new UsageError(err.message);
        throw err;
      }
      if (globals().json) {
        io.out(JSON.stringify(messages, null, 2));
        return;
      }
      // One JSON object a line, as the file holds them but with the bodies opened: for jq and grep.
      for (const m of messages) io.out(JSON.stringify({ ...m, at: new Date(m.at).toISOString() }));
    });

  addConnectionCommands(program, { client, print, env: io.env });
  addDirectoryCommands(program, io, () => Boolean(globals().json), client);

  return program;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError('payload: not valid JSON');
  }
}

const defaultIo = (): CliIo => ({
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  env: process.env,
  cwd: process.cwd(),
  connect: (options) => PathwayClient.connect(options),
});

/** Runs one command line (without `node` and the script); resolves to the exit code. */
export async function runCli(argv: string[], overrides: Partial<CliIo> = {}): Promise<number> {
  const io = { ...defaultIo(), ...overrides };
  const state: { client?: PathwayClient; code: number } = { code: EXIT.ok };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" under exitOverride; commander has printed them already.
      state.code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (err instanceof UsageError) {
      io.err(`error: ${err.message}`);
      state.code = EXIT.usage;
    } else {
      const { code, text } = describe(err, Boolean(io.env['PATHWAY_DEBUG']));
      io.err(`error: ${text}`);
      state.code = code;
    }
  } finally {
    await state.client?.close().catch(() => undefined);
  }
  return state.code;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv);
}

if (require.main === module) void main();
