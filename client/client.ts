// The SDK a host system (a GP clinical system, a case-management system) uses to refer people,
// move their cases along the pathway and read what supervisors need. It is the only module a host
// imports: Temporal, the codec and the workflows' contracts stay behind it.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation, type TLSConfig } from '@temporalio/client';
import type { PayloadCodec, QueryDefinition } from '@temporalio/common';
import { z } from 'zod';
import { CodecKeyError, loadCodecFromEnv } from '../codec';
import { DEFAULT_TASK_QUEUE, TASK_QUEUE_PATTERN, pathwayDataConverter, taskQueueFromEnv } from '../codec/defaults';
import { buildCohortReport, type CohortReport } from '../evidence/report';
import { outcomeRecordSchema, type OutcomeRecord } from '../evidence/outcomeRecord';
import {
  caseIdSchema,
  COMMAND_BYTE_BUDGET,
  commandSchemas,
  jsonBytes,
  MAX_FLAGGED_DUPLICATES,
  parsePolicy,
  PolicyError,
  referralFactsSchema,
  safeIdSchema,
  type CommandType,
  type Escalation,
  type SchemePolicy,
  type SchemePolicyInput,
  type Stage,
} from '../machines';
import { serverTarget } from '../worker/connection';
import {
  caseViewQuery,
  caseWorkflowId,
  commandUpdateId,
  commandUpdates,
  flagDuplicatesUpdate,
  ledgerWorkflowId,
  openCaseUpdate,
  outcomeRecordQuery,
  type CaseInput,
  type CaseOpened,
  type CaseView,
  type CommandResult,
  type TimelineEntry,
} from '../workflows/definitions';
import { caseloadsQuery, setRosterUpdate, type Caseloads, type LinkWorker } from '../workflows/ledger-definitions';
import { PERSON_MATCHES, personIndexShard, personIndexWorkflowId, registerPersonUpdate, type PersonFingerprints, type PossibleDuplicate } from '../workflows/person-index-definitions';
import { schemeKey } from '../workflows/search-attributes';
import type { pathwayCase } from '../workflows/case';
import type { capacityLedger } from '../workflows/capacity-ledger';
import type { personIndex } from '../workflows/person-index';
import {
  applicationFailureOf,
  CaseNotFoundError,
  commandError,
  CommandRefusedError,
  ConfigurationError,
  ConflictingReferralError,
  ConnectionFailedError,
  ConsentRequiredError,
  formatPath,
  InvalidInputError,
  isAlreadyStarted,
  isNotFound,
  SchemeNotFoundError,
} from './errors';
import { loadPersonKey, PersonKey, personFingerprints } from './person';
import { ConnectionsApi, type ConnectionCommandInput, type ProposeConnectionInput, type RemovedServiceConnection } from './connections';
import type { ConnectionSummary } from '../machines/connection';
import type { ConnectionView } from '../workflows/connection-definitions';
import { mapLimit, Semaphore } from './pool';
import * as subscriptions from './subscriptions';
import type { SubscribeInput } from './subscriptions';
import type { SubscriptionLimits, SubscriptionState } from '../workflows/subscription-definitions';
import { CASE_ID_PREFIX, caseFiltersSchema, caseListQuery, caseSummary, ledgerListQuery, type CaseFilters, type CaseSummary } from './queries';
import { canonicalJson, hostReferralSchema, instantSchema, isoDateSchema, referralFacts, type HostReferral } from './referral';
import { tracingFromEnv } from './tracing';
import { queryWorkflow } from './reads';
import { executeCommandUpdate } from './updates';

/** The task queue the project's worker polls unless told otherwise (worker/create.ts). */
export { DEFAULT_TASK_QUEUE };

/** Below the ten updates in flight per workflow that the server allows by default. */
const INDEX_UPDATES_IN_FLIGHT = 8;

export interface ClientSettings {
  /** The task queue the pathway worker polls: `PATHWAY_TASK_QUEUE`, else `social-prescribing`. */
  taskQueue?: string;
  /** Keys duplicate-person fingerprints and intake digests: a `PersonKey` or base64 text; else `PATHWAY_PERSON_KEY`. */
  personKey?: PersonKey | string;
  /** Each scheme's policy; a scheme not listed runs the default policy. */
  policies?: Record<string, SchemePolicyInput | SchemePolicy>;
  /** How many case queries a list, report or escalation read runs at once. */
  concurrency?: number;
  /** The clock for referral times and "overdue"; tests fix it. */
  now?: () => number;
  /** How long each of a report's or escalation list's case queries may take; 15 s by default. */
  queryTimeoutMs?: number;
  /**
   * A scheme's Task subscriptions workflow, when this client's first `subscribe` starts it: the
   * delivery retry cap and continue-as-new threshold (tests lower them); Temporal's defaults else.
   */
  subscriptionLimits?: SubscriptionLimits;
}

export interface ConnectOptions extends ClientSettings {
  /** host:port; else the profile's or `TEMPORAL_ADDRESS`, else the local dev server. */
  address?: string;
  namespace?: string;
  tls?: boolean | TLSConfig;
  apiKey?: string;
  /** A profile in the Temporal envconfig TOML file (as the `temporal` CLI uses). */
  profile?: string;
  configFile?: string;
  /** Where TEMPORAL_* and PATHWAY_* settings are read from; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** Payload encryption: a codec, `'none'` for plaintext (never with real data), else from the env as the worker does. */
  codec?: PayloadCodec | 'none';
  /**
   * Local development only: with no keys configured, use (or mint) the dev keys in this folder, as
   * `npm start` does, instead of failing.
   */
  devKeyDir?: string;
  /** How long to wait for the server to answer at connect; the SDK's 10 s by default. */
  connectTimeoutMs?: number;
  /** Reuse an open connection; the client then leaves it open on `close()`. */
  connection?: Connection;
}

/** Encrypted payloads and encrypted failure messages: the worker's own converter (codec/defaults.ts). */
export const clientDataConverter = pathwayDataConverter;

export interface ReferOptions {
  /** This referral's scheme policy, overriding the client's `policies`. */
  policy?: SchemePolicyInput | SchemePolicy;
  /**
   * The referring system's own id (a FHIR client's token `sub`), kept in the case workflow's memo
   * (an id, never anything about the person) so only that system may cancel the referral over FHIR.
   * A repeated referral keeps the first referrer.
   */
  referrer?: string;
}

export interface ReferralResult {
  case: CaseView;
  /** False when this referral id had already been referred with the same details: the existing case. */
  created: boolean;
  /** Other cases in the scheme for what looks like the same person. */
  possibleDuplicates: PossibleDuplicate[];
}

export interface EscalationItem extends Escalation {
  caseId: string;
  schemeId: string;
  /** The stage the case is in now (`stage` is where it was when raised). */
  caseStage: Stage;
  linkWorkerId?: string;
}

export interface ReportOptions {
  schemeId: string;
  /** Referrals from this instant (inclusive): a Date, epoch ms, `YYYY-MM-DD` (UTC midnight) or an ISO date-time. */
  from?: Date | number | string;
  /** Referrals before this instant (exclusive). */
  to?: Date | number | string;
}

export interface CohortReportResult {
  report: CohortReport;
  /** Every record the report was built from (the whole scheme; the report selects the period). */
  records: OutcomeRecord[];
  /** Cases whose record could not be read; they are missing from the report, so say so beside it. */
  unreadable: Array<{ caseId: string; error: string }>;
}

export type CommandInput<K extends CommandType> = z.input<(typeof commandSchemas)[K]>;

export interface CommandOptions {
  /**
   * The host's id for this command (letters, digits, '.', '_', ':', '-'; up to 128). A command sent
   * again with the same id, after a timeout say, is applied once and answers the first result; the
   * same id with a different command is refused with CommandConflictError. The case remembers the
   * last 100 ids it applied.
   */
  commandId?: string;
}
const commandOptionsSchema = z.object({ commandId: safeIdSchema.optional() }).strict();

// The report's renderers print dates as YYYY-MM-DD: an instant past year 9999 (or past what a Date
// can hold, as 9e15 is) is a mistake, refused here rather than crashing a renderer later.
const LAST_REPORT_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const instantOption = z
  .union([z.date().transform((d) => d.getTime()), isoDateSchema.transform((s) => Date.parse(`${s}T00:00:00Z`)), instantSchema])
  .refine((t) => Number.isFinite(t) && t >= 0 && t <= LAST_REPORT_INSTANT, { error: 'must be a date between 1970 and 9999' });
const reportOptionsSchema = z.object({ schemeId: safeIdSchema, from: instantOption.optional(), to: instantOption.optional() }).strict();
const rosterSchema = z
  .array(z.object({ id: safeIdSchema, cap: z.int().min(0).max(1000).optional() }).strict())
  .superRefine((roster, ctx) => {
    const seen = new Set<string>();
    roster.forEach((w, i) => {
      if (seen.has(w.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'appears twice' });
      seen.add(w.id);
    });
  });

function parse<S extends z.ZodType>(what: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: false });
  if (result.success) return result.data;
  throw new InvalidInputError(
    what,
    result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.code === 'unrecognized_keys' ? unknownFields(i.keys.length) : i.message })),
  );
}

/** zod quotes unknown keys in its message; a key is host input like any value and may be about a person, so only their number is given. */
function unknownFields(count: number): string {
  return `has ${count} field${count === 1 ? '' : 's'} it does not accept (not named here: keys are input and may hold personal data)`;
}

export class PathwayClient {
  readonly #ownsConnection: boolean;
  readonly #personKey: PersonKey;
  readonly #policies: Map<string, SchemePolicy>;
  readonly #concurrency: number;
  readonly #now: () => number;
  readonly #indexLanes = new Map<string, Semaphore>();
  readonly #queryTimeoutMs: number;
  readonly #subscriptionLimits: SubscriptionLimits | undefined;
  readonly taskQueue: string;

  private constructor(
    /** The underlying Temporal client, for what this SDK does not cover. */
    readonly temporal: Client,
    settings: { personKey: PersonKey; taskQueue: string; policies: Map<string, SchemePolicy>; concurrency: number; now: () => number; ownsConnection: boolean; queryTimeoutMs: number; subscriptionLimits?: SubscriptionLimits },
  ) {
    this.#queryTimeoutMs = settings.queryTimeoutMs;
    this.#subscriptionLimits = settings.subscriptionLimits;
    this.#personKey = settings.personKey;
    this.#policies = settings.policies;
    this.#concurrency = settings.concurrency;
    this.#now = settings.now;
    this.#ownsConnection = settings.ownsConnection;
    this.taskQueue = settings.taskQueue;
  }

  /**
   * Connects to the server the options, the env or an envconfig profile name (the local dev server
   * by default), with the same payload encryption as the worker.
   */
  static async connect(options: ConnectOptions = {}): Promise<PathwayClient> {
    const env = options.env ?? process.env;
    let codec: PayloadCodec | undefined;
    if (options.codec === 'none') codec = undefined;
    else if (options.codec) codec = options.codec;
    else {
      try {
        codec = await loadCodecFromEnv(env, options.devKeyDir !== undefined ? { devKeyDir: options.devKeyDir } : {});
      } catch (err) {
        if (err instanceof CodecKeyError) throw new ConfigurationError(err.message, { cause: err });
        throw err;
      }
    }
    let connection = options.connection;
    let namespace = options.namespace;
    if (!connection) {
      const target = serverTarget({
        ...env,
        ...(options.profile !== undefined && { TEMPORAL_PROFILE: options.profile }),
        ...(options.configFile !== undefined && { TEMPORAL_CONFIG_FILE: options.configFile }),
      });
      namespace ??= target.namespace;
      const address = options.address ?? target.address;
      try {
        connection = await Connection.connect({
          ...target.connectionOptions,
          address,
          ...(options.tls !== undefined && { tls: options.tls }),
          ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
          ...(options.connectTimeoutMs !== undefined && { connectTimeout: options.connectTimeoutMs }),
        });
      } catch (err) {
        throw new ConnectionFailedError(address, { cause: err });
      }
    }
    // Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set (client/tracing.ts); off, nothing loads.
    const tracing = await tracingFromEnv(env);
    const client = new Client({
      connection,
      namespace: namespace ?? 'default',
      dataConverter: clientDataConverter(codec),
      ...(tracing && { interceptors: { workflow: [tracing.clientInterceptor()] } }),
    });
    return PathwayClient.#create(client, options, env, options.connection === undefined, options.devKeyDir);
  }

  /**
   * Wraps a Temporal client the caller already has. Its data converter must be the worker's
   * (`clientDataConverter(codec)`), or payloads and failure messages will not decode.
   */
  static async fromClient(client: Client, settings: ClientSettings & { env?: Record<string, string | undefined>; devKeyDir?: string } = {}): Promise<PathwayClient> {
    return PathwayClient.#create(client, settings, settings.env ?? process.env, false, settings.devKeyDir);
  }

  static async #create(client: Client, settings: ClientSettings, env: Record<string, string | undefined>, ownsConnection: boolean, devKeyDir?: string) {
    const personKey =
      settings.personKey instanceof PersonKey
        ? settings.personKey
        : settings.personKey !== undefined
          ? PersonKey.fromBase64(settings.personKey, 'personKey')
          : await loadPersonKey(env, devKeyDir);
    const policies = new Map<string, SchemePolicy>();
    for (const [schemeId, input] of Object.entries(settings.policies ?? {})) {
      const policy = parsePolicyFor(schemeId, input);
      if (policy.schemeId !== schemeId) throw new ConfigurationError(`policies.${schemeId}: its schemeId is '${policy.schemeId}'`);
      policies.set(schemeId, policy);
    }
    const taskQueue = settings.taskQueue ?? taskQueueFromEnv(env);
    if (!TASK_QUEUE_PATTERN.test(taskQueue)) throw new ConfigurationError('taskQueue: must be letters, digits, ".", "_", ":", "/" or "-"');
    return new PathwayClient(client, {
      personKey,
      taskQueue,
      queryTimeoutMs: settings.queryTimeoutMs ?? 15_000,
      policies,
      concurrency: settings.concurrency ?? 8,
      now: settings.now ?? Date.now,
      ownsConnection,
      ...(settings.subscriptionLimits && { subscriptionLimits: settings.subscriptionLimits }),
    });
  }

  /** The case id for a referral id: the case workflow's id. */
  static caseIdFor(referralId: string): string {
    return caseWorkflowId(referralId);
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) await this.temporal.connection.close();
  }

  /** The policy cases of this scheme start with. */
  policyFor(schemeId: string): SchemePolicy {
    return this.#policies.get(schemeId) ?? parsePolicy({ schemeId });
  }

  // ---- Referral ---------------------------------------------------------------------------------

  /**
   * Opens a case for the referral, or returns the case this referral id already opened if it is the
   * same referral. Flags other cases in the scheme that look like the same person.
   *
   * @throws InvalidInputError when the referral (or the policy) does not validate
   * @throws ConsentRequiredError when `consent` is false: nothing is started or stored
   * @throws ConflictingReferralError when the referral id was used for a different referral
   */
  async refer(referral: HostReferral, options: ReferOptions = {}): Promise<ReferralResult> {
    const parsed = parse('referral', hostReferralSchema, referral);
    // Before anything is started or stored: without consent the scheme may not hold the referral at all.
    if (!parsed.consent) throw new ConsentRequiredError(parsed.referralId);
    const policy = options.policy !== undefined ? parsePolicyFor(parsed.schemeId, options.policy) : this.policyFor(parsed.schemeId);
    if (policy.schemeId !== parsed.schemeId) {
      throw new InvalidInputError('referral', [{ path: 'schemeId', message: `the policy given is for scheme '${policy.schemeId}'` }]);
    }
    const referrer = options.referrer !== undefined ? parse('referrer', safeIdSchema, options.referrer) : undefined;
    const facts = referralFacts(parsed, this.#now());
    const checked = referralFactsSchema.safeParse(facts, { reportInput: false });
    if (!checked.success) {
      // The only derived field is the age, so a problem there is a problem with the date of birth.
      throw new InvalidInputError(
        'referral',
        checked.error.issues.map((i) => ({ path: i.path[0] === 'age' ? 'person.dateOfBirth' : formatPath(i.path), message: i.path[0] === 'age' ? 'gives an age outside 0-130 on the referral date' : i.message })),
      );
    }
    // Keyed, like the fingerprints: a plain hash of a referral could be tested against guesses of the person's details.
    const intakeDigest = this.#personKey.digest('intake', canonicalJson(parsed));
    const caseId = caseWorkflowId(parsed.referralId);
    const intakeId = randomUUID();
    const input: CaseInput = { referral: facts, policy, intakeDigest, intakeId };

    // One round trip: the case is started (or found open) and answers with its first view.
    let opened: CaseOpened;
    try {
      opened = await this.temporal.workflow.executeUpdateWithStart(openCaseUpdate, {
        args: [{ intakeId }],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof pathwayCase>('pathwayCase', {
          workflowId: caseId,
          taskQueue: this.taskQueue,
          args: [input],
          // A closed case keeps its id: a repeat of a discharged referral finds the old case.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          // An open one answers the repeat itself.
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [{ key: schemeKey, value: parsed.schemeId }],
          ...(referrer !== undefined && { memo: { referrer } }),
        }),
      });
    } catch (err) {
      if (!isAlreadyStarted(err)) throw err;
      opened = { view: await this.#viewWhenReady(caseId), created: false };
    }
    const { view, created } = opened;
    if (!created && view.intakeDigest !== intakeDigest) throw new ConflictingReferralError(parsed.referralId, caseId);
    // The person withdrew consent and the index forgot them: a repeat of the referral must not put them back.
    if (view.discharge?.reason === 'consentWithdrawn') return { case: view, created, possibleDuplicates: [] };

    const possibleDuplicates = await this.#registerPerson(parsed.schemeId, caseId, personFingerprints(this.#personKey, parsed.person));
    // Into the case itself, so the flag outlives this response. A repeated referral sends it again,
    // so a client that died between the two calls is made good by the host's retry.
    const flagged = possibleDuplicates.length > 0 ? await this.#flagDuplicates(caseId, possibleDuplicates.slice(0, MAX_FLAGGED_DUPLICATES)) : undefined;
    return { case: flagged ?? view, created, possibleDuplicates };
  }

  /** The case as flagged; undefined when it had them all already or is closed (it refuses, recording nothing). */
  async #flagDuplicates(caseId: string, duplicates: PossibleDuplicate[]): Promise<CaseView | undefined> {
    try {
      return await this.temporal.workflow.getHandle(caseId).executeUpdate(flagDuplicatesUpdate, { args: [{ duplicates }] });
    } catch (err) {
      const failure = applicationFailureOf(err);
      if (failure?.type === 'CommandNotAllowed' || isNotFound(err) || (await this.#isClosedCase(caseId))) return undefined;
      throw err;
    }
  }

  /** Each fingerprint goes to its shard of the scheme's index; the answers merge, the strongest match first. */
  async #registerPerson(schemeId: string, caseId: string, fingerprints: PersonFingerprints): Promise<PossibleDuplicate[]> {
    const byShard = new Map<string, Partial<PersonFingerprints>>();
    for (const match of PERSON_MATCHES) {
      const fingerprint = fingerprints[match];
      if (fingerprint === undefined) continue;
      const shard = personIndexShard(fingerprint);
      byShard.set(shard, { ...byShard.get(shard), [match]: fingerprint });
    }
    const answers = await Promise.all(
      [...byShard].map(([shard, subset]) => {
        const workflowId = personIndexWorkflowId(schemeId, shard);
        return this.#indexLane(workflowId).run(() =>
          this.temporal.workflow.executeUpdateWithStart(registerPersonUpdate, {
            args: [{ caseId, fingerprints: subset }],
            startWorkflowOperation: new WithStartWorkflowOperation<typeof personIndex>('personIndex', {
              workflowId,
              taskQueue: this.taskQueue,
              args: [{ schemeId, shard }],
              workflowIdConflictPolicy: 'USE_EXISTING',
            }),
          }),
        );
      }),
    );
    const found = new Map<string, PossibleDuplicate>();
    for (const match of PERSON_MATCHES) {
      for (const d of answers.flat()) if (d.match === match && !found.has(d.caseId)) found.set(d.caseId, d);
    }
    return [...found.values()];
  }

  /**
   * The server lets one workflow have ten updates in flight; beyond that it answers
   * RESOURCE_EXHAUSTED and the SDK backs off for seconds. A burst of referrals to one index shard
   * from this client queues here instead, so only other clients' bursts ever meet that limit.
   */
  #indexLane(workflowId: string): Semaphore {
    let lane = this.#indexLanes.get(workflowId);
    if (!lane) this.#indexLanes.set(workflowId, (lane = new Semaphore(INDEX_UPDATES_IN_FLIGHT)));
    return lane;
  }

  /** A case answers queries once its first workflow task has run (a closed one at once). */
  async #viewWhenReady(caseId: string): Promise<CaseView> {
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        return await queryWorkflow(this.temporal, caseId, caseViewQuery);
      } catch (err) {
        if (isNotFound(err) || Date.now() > until) throw err;
        // FAILED_PRECONDITION: no workflow task has completed yet.
        if ((err as { code?: number }).code !== 9 && !/workflow task|not.*ready/i.test((err as Error).message)) throw err;
        await sleep(50);
      }
    }
  }

  // ---- Commands -----------------------------------------------------------------------------------

  /**
   * Sends any pathway command; the named methods below are this with the type filled in. The payload
   * is validated here first, then by the workflow, which also decides whether the move is allowed.
   *
   * @returns what the command changed: the stage, the case's sequence, its next deadline and, once
   *   closed, the discharge (the whole case is `getCase`)
   * @throws InvalidInputError, CommandRefusedError, CommandConflictError, CaseNotFoundError
   */
  async send<K extends CommandType>(caseId: string, type: K, payload: CommandInput<K>, options: CommandOptions = {}): Promise<CommandResult> {
    const id = parse('caseId', caseIdSchema, caseId);
    const schema = (commandSchemas as Record<string, z.ZodType>)[type];
    if (!schema) throw new InvalidInputError('command', [{ path: 'type', message: `must be one of ${Object.keys(commandSchemas).join(', ')}` }]);
    const { commandId } = parse('command options', commandOptionsSchema, options);
    const body = parse(type, schema, payload);
    const bytes = jsonBytes(body);
    if (bytes > COMMAND_BYTE_BUDGET) {
      throw new InvalidInputError(type, [{ path: '(input)', message: `is ${bytes} bytes encoded; a command may take at most ${COMMAND_BYTE_BUDGET}` }]);
    }
    // Keyed like the intake digest: the update id is visible in Temporal, a plain hash could be tested against guesses.
    const updateId = commandId !== undefined ? commandUpdateId(commandId, this.#personKey.digest('command', canonicalJson({ type, body })).slice(0, 32)) : undefined;
    try {
      const result = (await executeCommandUpdate(this.temporal, id, commandUpdates[type] as never, body as never, updateId)) as CommandResult;
      if (type === 'BEFRIENDING.RESULT') await this.#settleBefriending(id, body as CommandInput<'BEFRIENDING.RESULT'>);
      return result;
    } catch (err) {
      const mapped = commandError(id, type, err);
      if (mapped instanceof CaseNotFoundError && (await this.#isClosedCase(id))) {
        throw new CommandRefusedError(id, type, 'discharged', 'the case is closed', { cause: err, rule: 'notAtThisStage' });
      }
      throw mapped;
    }
  }

  /**
   * The system that referred the case (`ReferOptions.referrer`), or undefined when none was named.
   * @throws CaseNotFoundError
   */
  async referrerOf(caseId: string): Promise<string | undefined> {
    const id = parse('caseId', caseIdSchema, caseId);
    try {
      const { memo } = await this.temporal.workflow.getHandle(id).describe();
      return typeof memo?.['referrer'] === 'string' ? memo['referrer'] : undefined;
    } catch (err) {
      if (isNotFound(err)) throw new CaseNotFoundError(id, { cause: err });
      throw err;
    }
  }

  /** The handoff's connection hears the host's answer (ConnectionsApi.settleBefriending); never fails the command. */
  async #settleBefriending(caseId: string, body: CommandInput<'BEFRIENDING.RESULT'>): Promise<void> {
    if (body.result === 'waiting') return;
    // Read, not derived: the connection's id ends with the befriending service of the case's own
    // policy, which neither the case id nor the command's result names, and the read also says
    // whether that connection is still waiting and who the case's link worker is.
    const view = await this.getCase(caseId).catch(() => undefined);
    if (view) await this.#conn.settleBefriending(view, body.result, body.actor);
  }

  async #isClosedCase(caseId: string): Promise<boolean> {
    try {
      const d = await this.temporal.workflow.getHandle(caseId).describe();
      return d.type === 'pathwayCase' && d.status.name !== 'RUNNING';
    } catch {
      return false;
    }
  }

  /** Triage: the scheme takes the referral on; the case asks the capacity ledger for a link worker. */
  acceptReferral(caseId: string, payload: CommandInput<'TRIAGE.ACCEPT'>, options?: CommandOptions) {
    return this.send(caseId, 'TRIAGE.ACCEPT', payload, options);
  }
  /** Triage: not for this scheme; the reason goes back to the referrer. */
  declineReferral(caseId: string, payload: CommandInput<'TRIAGE.DECLINE'>, options?: CommandOptions) {
    return this.send(caseId, 'TRIAGE.DECLINE', payload, options);
  }
  /** Triage: a more suitable service is named to the referrer. */
  redirectReferral(caseId: string, payload: CommandInput<'TRIAGE.REDIRECT'>, options?: CommandOptions) {
    return this.send(caseId, 'TRIAGE.REDIRECT', payload, options);
  }
  recordContactAttempt(caseId: string, payload: CommandInput<'CONTACT.ATTEMPT'>, options?: CommandOptions) {
    return this.send(caseId, 'CONTACT.ATTEMPT', payload, options);
  }
  /** The first visit, with baseline measures and the barriers noted. */
  recordFirstVisit(caseId: string, payload: CommandInput<'VISIT.RECORD'>, options?: CommandOptions) {
    return this.send(caseId, 'VISIT.RECORD', payload, options);
  }
  draftPlan(caseId: string, payload: CommandInput<'PLAN.DRAFT'>, options?: CommandOptions) {
    return this.send(caseId, 'PLAN.DRAFT', payload, options);
  }
  /** One party's agreement; the plan is agreed (and support starts) when both have agreed the current draft. */
  agreePlan(caseId: string, payload: CommandInput<'PLAN.AGREE'>, options?: CommandOptions) {
    return this.send(caseId, 'PLAN.AGREE', payload, options);
  }
  logSession(caseId: string, payload: CommandInput<'SESSION.LOG'>, options?: CommandOptions) {
    return this.send(caseId, 'SESSION.LOG', payload, options);
  }
  changeTier(caseId: string, payload: CommandInput<'TIER.CHANGE'>, options?: CommandOptions) {
    return this.send(caseId, 'TIER.CHANGE', payload, options);
  }
  recordVolunteerMatch(caseId: string, payload: CommandInput<'VOLUNTEER.MATCHED'>, options?: CommandOptions) {
    return this.send(caseId, 'VOLUNTEER.MATCHED', payload, options);
  }
  recordCheckIn(caseId: string, payload: CommandInput<'CHECKIN.RECORD'>, options?: CommandOptions) {
    return this.send(caseId, 'CHECKIN.RECORD', payload, options);
  }
  /** The review: discharge, extend (needs a supervisor's approval) or hand on to befriending. */
  recordReview(caseId: string, payload: CommandInput<'REVIEW.RECORD'>, options?: CommandOptions) {
    return this.send(caseId, 'REVIEW.RECORD', payload, options);
  }
  /** Supervisor only. */
  approveExtension(caseId: string, payload: CommandInput<'EXTENSION.APPROVE'>, options?: CommandOptions) {
    return this.send(caseId, 'EXTENSION.APPROVE', payload, options);
  }
  /** Supervisor only; the case goes back to review. */
  refuseExtension(caseId: string, payload: CommandInput<'EXTENSION.REFUSE'>, options?: CommandOptions) {
    return this.send(caseId, 'EXTENSION.REFUSE', payload, options);
  }
  recordBefriendingResult(caseId: string, payload: CommandInput<'BEFRIENDING.RESULT'>, options?: CommandOptions) {
    return this.send(caseId, 'BEFRIENDING.RESULT', payload, options);
  }
  /** Puts the case on hold, at any stage, until a supervisor clears it. */
  raiseSafeguarding(caseId: string, payload: CommandInput<'SAFEGUARDING.RAISE'>, options?: CommandOptions) {
    return this.send(caseId, 'SAFEGUARDING.RAISE', payload, options);
  }
  /** Supervisor only; the case resumes where it was, its clocks shifted by the hold. */
  clearSafeguarding(caseId: string, payload: CommandInput<'SAFEGUARDING.CLEAR'>, options?: CommandOptions) {
    return this.send(caseId, 'SAFEGUARDING.CLEAR', payload, options);
  }
  /** Supervisor only. */
  acknowledgeEscalation(caseId: string, payload: CommandInput<'ESCALATION.ACK'>, options?: CommandOptions) {
    return this.send(caseId, 'ESCALATION.ACK', payload, options);
  }
  /** `consentWithdrawn` also makes the scheme's person index forget the person. */
  discharge(caseId: string, payload: CommandInput<'DISCHARGE'>, options?: CommandOptions) {
    return this.send(caseId, 'DISCHARGE', payload, options);
  }
  /**
   * Supervisor only: answers a possible-duplicate flag. `notDuplicate` clears it; `duplicate` (of
   * one of the flagged cases, if named) closes this case with reason `duplicate`.
   */
  resolveDuplicate(caseId: string, payload: CommandInput<'DUPLICATE.RESOLVE'>, options?: CommandOptions) {
    return this.send(caseId, 'DUPLICATE.RESOLVE', payload, options);
  }

  // ---- Connections to community services (client/connections.ts) ---------------------------------

  #connections?: ConnectionsApi;
  get #conn(): ConnectionsApi {
    return (this.#connections ??= new ConnectionsApi(this.temporal, this.taskQueue, (id) => this.getCase(id), (s) => this.policyFor(s)));
  }
  /** Proposes a service to the case's person; the provider is sent the referral and has the policy's deadline to answer. */
  proposeConnection(caseId: string, input: ProposeConnectionInput): Promise<ConnectionView> {
    return this.#conn.propose(caseId, input);
  }
  /** The provider accepts or declines. */
  respondToConnection(connectionId: string, payload: ConnectionCommandInput<'RESPOND'>): Promise<ConnectionSummary> {
    return this.#conn.respond(connectionId, payload);
  }
  recordAttendance(connectionId: string, payload: ConnectionCommandInput<'ATTEND'>): Promise<ConnectionSummary> {
    return this.#conn.recordAttendance(connectionId, payload);
  }
  stopConnection(connectionId: string, payload: ConnectionCommandInput<'STOP'>): Promise<ConnectionSummary> {
    return this.#conn.stop(connectionId, payload);
  }
  completeConnection(connectionId: string, payload: ConnectionCommandInput<'COMPLETE'>): Promise<ConnectionSummary> {
    return this.#conn.complete(connectionId, payload);
  }
  getConnection(connectionId: string): Promise<ConnectionView> {
    return this.#conn.get(connectionId);
  }
  listConnections(caseId: string): Promise<ConnectionSummary[]> {
    return this.#conn.list(caseId);
  }
  /**
   * After a directory import: tells each open connection of the scheme to a removed service (the
   * import report's `removed`); the link worker hears with the next match. Answers those told.
   */
  serviceRemoved(schemeId: string, serviceIds: readonly string[]): Promise<RemovedServiceConnection[]> {
    return this.#conn.serviceRemoved(schemeId, serviceIds);
  }
  /** A provider's open connections (sent, accepted, attending), read from each: what it has to answer or record. */
  openConnectionsOf(providerId: string): Promise<ConnectionView[]> {
    return this.#conn.openForProvider(providerId);
  }

  // ---- Reading --------------------------------------------------------------------------------------

  /** The case as it stands (consistent: answered by the case itself). */
  getCase(caseId: string): Promise<CaseView> {
    return this.#queryCase(caseId, caseViewQuery);
  }

  /**
   * Polls the case until it is in one of `stages` (or `done` holds): the capacity ledger and
   * deadlines move cases on their own, so after `acceptReferral` a host waits for `firstContact`.
   */
  async waitFor(caseId: string, until: Stage | Stage[] | ((view: CaseView) => boolean), options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<CaseView> {
    const done = typeof until === 'function' ? until : (v: CaseView) => ([] as Stage[]).concat(until).includes(v.stage);
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const view = await this.getCase(caseId);
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`${caseId} is still at stage '${view.stage}' after ${options.timeoutMs ?? 30_000} ms`);
      await sleep(options.intervalMs ?? 200);
    }
  }

  async timeline(caseId: string): Promise<TimelineEntry[]> {
    return (await this.getCase(caseId)).timeline;
  }

  /** The case's outcome record: final once discharged, partial while open. */
  outcomeRecord(caseId: string): Promise<OutcomeRecord> {
    return this.#queryCase(caseId, outcomeRecordQuery);
  }

  async #queryCase<T>(caseId: string, query: QueryDefinition<T>): Promise<T> {
    const id = parse('caseId', caseIdSchema, caseId);
    try {
      return await queryWorkflow(this.temporal, id, query);
    } catch (err) {
      // A workflow id that is not a case (no such query) is as good as no case.
      if (isNotFound(err) || /query.*(not registered|unknown|not found)/i.test((err as Error)?.message ?? '')) {
        throw new CaseNotFoundError(id, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Cases matching every filter given, newest first, from visibility (search attributes): it lags
   * the cases by up to a second or so, and never holds anything about the person.
   */
  listCases(filters: CaseFilters = {}): Promise<CaseSummary[]> {
    return this.#listCases(filters);
  }

  async #listCases(filters: CaseFilters, taskQueue?: string): Promise<CaseSummary[]> {
    const f = parse('filters', caseFiltersSchema, filters);
    const now = this.#now();
    const seen = new Map<string, CaseSummary>();
    for await (const info of this.temporal.workflow.list({ query: caseListQuery(f, now, taskQueue) })) {
      if (!info.workflowId.startsWith(CASE_ID_PREFIX) || seen.has(info.workflowId)) continue;
      seen.set(info.workflowId, caseSummary(info, now));
    }
    const all = [...seen.values()].sort((a, b) => b.startedAt - a.startedAt || (a.caseId < b.caseId ? -1 : 1));
    return f.limit !== undefined ? all.slice(0, f.limit) : all;
  }

  /**
   * Open escalations across the open cases on this client's task queue (of one scheme, if given),
   * oldest first. Each escalated case is asked for its view, so the list is as fresh as the cases.
   */
  async escalations(filters: { scheme?: string } = {}): Promise<EscalationItem[]> {
    const { scheme } = parse('filters', z.object({ scheme: safeIdSchema.optional() }).strict(), filters);
    const cases = await this.#listCases({ ...(scheme !== undefined && { scheme }), escalated: true, open: true }, this.taskQueue);
    const views = await mapLimit(cases, this.#concurrency, (c) => this.#fanOut(c.caseId, caseViewQuery).catch(() => undefined));
    const items = views.flatMap((v) =>
      v
        ? v.openEscalations.map((e) => ({
            ...e,
            caseId: v.caseId,
            schemeId: v.schemeId,
            caseStage: v.stage,
            ...(v.linkWorkerId !== undefined && { linkWorkerId: v.linkWorkerId }),
          }))
        : [],
    );
    return items.sort((a, b) => a.raisedAt - b.raisedAt || (a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : 0));
  }

  // ---- Task subscriptions (client/subscriptions.ts) ------------------------------------------------

  /**
   * Registers an endpoint for the scheme's Task changes (each stage change of each case), sent in
   * order and numbered by the scheme's subscriptions workflow (docs/fhir.md, "Subscriptions").
   * @throws InvalidInputError (an endpoint that is not http(s) or carries credentials, bad headers)
   */
  async subscribe(input: SubscribeInput): Promise<SubscriptionState> {
    return subscriptions.subscribe(this.temporal, this.taskQueue, input, this.#subscriptionLimits);
  }

  /** @throws SubscriptionNotFoundError */
  async getSubscription(subscriptionId: string): Promise<SubscriptionState> {
    return subscriptions.getSubscription(this.temporal, subscriptionId);
  }

  /** Ends a subscription; answers it as it was, status `off`. @throws SubscriptionNotFoundError */
  async unsubscribe(subscriptionId: string): Promise<SubscriptionState> {
    return subscriptions.unsubscribe(this.temporal, subscriptionId);
  }

  /** Every live subscription of a scheme. */
  async subscriptions(schemeId: string): Promise<SubscriptionState[]> {
    return subscriptions.subscriptionsOf(this.temporal, schemeId);
  }

  /** Open cases per link worker against their cap, and the waitlist: the scheme's ledger's own answer. */
  async caseloads(schemeId: string): Promise<Caseloads> {
    const id = parse('schemeId', safeIdSchema, schemeId);
    try {
      return await queryWorkflow(this.temporal, ledgerWorkflowId(id), caseloadsQuery);
    } catch (err) {
      if (isNotFound(err)) throw new SchemeNotFoundError(id, { cause: err });
      throw err;
    }
  }

  /** Caseloads of every scheme whose ledger runs on this client's task queue. */
  async allCaseloads(): Promise<Caseloads[]> {
    const ids: string[] = [];
    for await (const info of this.temporal.workflow.list({ query: ledgerListQuery(this.taskQueue) })) {
      if (!ids.includes(info.workflowId)) ids.push(info.workflowId);
    }
    const loads = await mapLimit(ids, this.#concurrency, (id) => this.#fanOut(id, caseloadsQuery).catch(() => undefined));
    return loads.filter((l): l is Caseloads => l !== undefined).sort((a, b) => (a.schemeId < b.schemeId ? -1 : 1));
  }

  /** Who takes cases in the scheme and their caps; starts the scheme's ledger if it is new. */
  async setRoster(schemeId: string, roster: LinkWorker[]): Promise<Caseloads> {
    const id = parse('schemeId', safeIdSchema, schemeId);
    const workers = parse('roster', rosterSchema, roster);
    try {
      return await this.temporal.workflow.executeUpdateWithStart(setRosterUpdate, {
        args: [workers],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof capacityLedger>('capacityLedger', {
          workflowId: ledgerWorkflowId(id),
          taskQueue: this.taskQueue,
          args: [{ schemeId: id, caseloadCap: this.policyFor(id).caseloadCap }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
    } catch (err) {
      const failure = applicationFailureOf(err);
      if (failure?.type === 'InvalidCommand') throw new InvalidInputError('roster', [{ path: '(input)', message: failure.message }], { cause: err });
      throw err;
    }
  }

  /**
   * One of many queries a read sends out: bounded in time, so a case whose worker is gone (or
   * busy replaying) costs the read one timeout rather than hanging it.
   */
  #fanOut<T>(workflowId: string, query: QueryDefinition<T>): Promise<T> {
    return this.temporal.withDeadline(Date.now() + this.#queryTimeoutMs, () => queryWorkflow(this.temporal, workflowId, query));
  }

  // ---- Evidence -------------------------------------------------------------------------------------

  /** The outcome record of every case of the scheme (read with bounded concurrency). */
  async outcomeRecords(schemeId: string): Promise<Omit<CohortReportResult, 'report'>> {
    const id = parse('schemeId', safeIdSchema, schemeId);
    const cases = await this.listCases({ scheme: id });
    const unreadable: CohortReportResult['unreadable'] = [];
    const read = await mapLimit(cases, this.#concurrency, async (c) => {
      try {
        const parsed = outcomeRecordSchema.safeParse(await this.#fanOut(c.caseId, outcomeRecordQuery), { reportInput: false });
        if (parsed.success) return parsed.data;
        unreadable.push({ caseId: c.caseId, error: `record does not validate: ${parsed.error.issues.map((i) => formatPath(i.path)).join(', ')}` });
      } catch (err) {
        unreadable.push({ caseId: c.caseId, error: (err as Error).message });
      }
      return undefined;
    });
    return { records: read.filter((r): r is OutcomeRecord => r !== undefined), unreadable };
  }

  /** The cohort report for the scheme's referrals in [from, to). */
  async report(options: ReportOptions): Promise<CohortReportResult> {
    const { schemeId, from, to } = parse('report options', reportOptionsSchema, options);
    const { records, unreadable } = await this.outcomeRecords(schemeId);
    const report = buildCohortReport(records, { schemeId, ...(from !== undefined && { from }), ...(to !== undefined && { to }) });
    return { report, records, unreadable };
  }
}

function parsePolicyFor(schemeId: string, input: SchemePolicyInput | SchemePolicy): SchemePolicy {
  try {
    return parsePolicy({ schemeId, ...input });
  } catch (err) {
    if (err instanceof PolicyError) {
      throw new InvalidInputError('policy', err.issues.map((issue) => {
        const [path, ...rest] = issue.split(': ');
        return { path: path ?? '(input)', message: rest.join(': ') };
      }), { cause: err });
    }
    throw err;
  }
}

export type { CaseView, CommandResult, TimelineEntry, Caseloads, LinkWorker, PossibleDuplicate, OutcomeRecord, CohortReport };
