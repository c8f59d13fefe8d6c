// The command gate: every command a host sends (an update per pathway command, and the client's
// possible-duplicates flag) comes through here. Validate once, decide once, apply:
//   1. a repeat of a command already applied under the same host command id is answered with its
//      first result, and a different command under a used id is refused;
//   2. the payload is measured and parsed with its zod schema, once per update;
//   3. the pathway judges it once (who may act, then the machine's `can()`), against the case as
//      the handler will find it: with every deadline already due applied;
//   4. the handler applies the parsed event. A refusal throws from the validator, so it leaves no
//      trace in history (Temporal's rule), and names its reason and rule.
// The verdict is worked out at the start of the activation (beforeCommands) and reused by the
// validator while the case has not moved since; on replay no validator runs and the handler parses
// the payload itself, deterministically.
import { ApplicationFailure, currentUpdateInfo, defineUpdate, setHandler } from '@temporalio/workflow';
import { COMMAND_BYTE_BUDGET, COMMAND_TYPES, commandRefusal, commandSchemas, jsonBytes, stageOf, systemEventSchemas, type CommandType, type PathwayEvent } from '../../machines';
import { commandUpdates, flagDuplicatesUpdate, parseCommandUpdateId, type CaseView, type CommandResult, type RecentCommand } from '../definitions';
import { KEPT } from '../carried-state';
import { describeIssues } from '../refusals';
import { beforeCommands } from '../runtime/before-commands';
import { CATCH_UP_BOUND, type Deadlines } from './deadlines';
import type { CaseState } from './state';

const FLAG = 'DUPLICATES.FLAGGED';
type GateName = CommandType | typeof FLAG;

/** A judged update: its event (payload parsed, no time yet) or why it is refused, and the case it was judged against. */
interface Verdict {
  parsed?: object;
  refusal?: ApplicationFailure;
  /** The sequence and clock of the case the verdict holds for (the case caught up to its due deadlines). */
  sequence?: number;
  now?: number;
}

const invalid = (message: string, details?: unknown) =>
  ApplicationFailure.create({ type: 'InvalidCommand', message, nonRetryable: true, ...(details !== undefined && { details: [details] }) });
const notAllowed = (message: string, details?: unknown) =>
  ApplicationFailure.create({ type: 'CommandNotAllowed', message, nonRetryable: true, ...(details !== undefined && { details: [details] }) });

export class CommandGate {
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    private readonly state: CaseState,
    private readonly deadlines: Deadlines,
  ) {}

  /** One handler per pathway command, each with its synchronous validator. */
  registerCommands(): void {
    for (const type of COMMAND_TYPES) this.registerCommand(type);
  }

  private registerCommand(type: CommandType): void {
    // One generic registration for every command; the per-command payload types live in
    // `commandUpdates` for callers, here each payload is checked by its zod schema instead.
    const update = commandUpdates[type] as unknown as ReturnType<typeof defineUpdate<CommandResult, [unknown]>>;
    setHandler(
      update,
      (payload: unknown): CommandResult => {
        const updateId = currentUpdateInfo()?.id;
        const prior = this.repeatOf(type, updateId);
        if (prior) return prior.result;
        const parsed = this.parsedFor(type, payload, updateId);
        this.deadlines.catchUp();
        this.state.apply({ ...parsed, type, at: Date.now() } as PathwayEvent);
        const result = this.state.commandResult();
        this.remember(updateId, result);
        return result;
      },
      // Synchronous by Temporal's rule: a throw here rejects the update and leaves no trace in history.
      { validator: (payload: unknown) => this.validate(type, payload, currentUpdateInfo()?.id) },
    );
  }

  /** The person index's answer, passed on by the client once the case has started. */
  registerFlag(): void {
    setHandler(
      flagDuplicatesUpdate,
      (payload): CaseView => {
        const parsed = this.parsedFor(FLAG, payload, currentUpdateInfo()?.id);
        this.deadlines.catchUp();
        this.state.apply({ ...parsed, type: FLAG, at: Date.now() } as PathwayEvent);
        return this.state.view();
      },
      { validator: (payload: unknown) => this.validate(FLAG, payload, currentUpdateInfo()?.id) },
    );
  }

  // Catching up happens only for a command that will be accepted: one the validator would refuse
  // leaves no trace in history, so neither may anything done on its account, or a replay (which
  // never sees it) would not match. An update that is not a command (a repeated referral's
  // `openCase`) never catches up, live or on replay: judged by its name before the replay shortcut,
  // or a replay caught up where the live run had not (found by the cluster's worker-kill fault).
  catchUpBeforeAcceptedCommands(): void {
    beforeCommands((updates) => {
      const accepted = updates.some(({ id, name, args, validated }) => {
        if (!(COMMAND_TYPES as readonly string[]).includes(name) && name !== flagDuplicatesUpdate.name) return false;
        if (!validated) return true;
        const gateName = name === flagDuplicatesUpdate.name ? FLAG : (name as CommandType);
        try {
          this.validate(gateName, args[0], id);
          return true;
        } catch {
          return false;
        }
      });
      if (accepted) this.deadlines.catchUp();
    });
  }

  private validate(name: GateName, payload: unknown, updateId: string | undefined): void {
    // A repeat of a command already applied is answered, not judged again: the case has moved on.
    if (name !== FLAG && this.repeatOf(name, updateId)) return;
    const verdict = this.judge(name, payload, updateId);
    if (verdict.refusal) {
      if (updateId !== undefined) this.verdicts.delete(updateId);
      throw verdict.refusal;
    }
  }

  /** The verdict on an update, worked out once while the case stays where it was judged. */
  private judge(name: GateName, payload: unknown, updateId: string | undefined): Verdict {
    const known = updateId !== undefined ? this.verdicts.get(updateId) : undefined;
    if (known && (known.parsed === undefined || (known.sequence === this.state.sequence && known.now === Date.now()))) return known;
    const verdict: Verdict = known ?? this.parse(name, payload);
    if (verdict.parsed !== undefined) this.decide(name, verdict);
    if (updateId !== undefined) this.verdicts.set(updateId, verdict);
    return verdict;
  }

  /** Step 2: the payload's size and schema; a refusal here stands whatever the case does. */
  private parse(name: GateName, payload: unknown): Verdict {
    if (name === FLAG) {
      const parsed = systemEventSchemas[FLAG].safeParse(payload);
      return parsed.success ? { parsed: parsed.data } : { refusal: invalid(`${FLAG} refused: ${describeIssues(parsed.error.issues)}`) };
    }
    // Whatever the schema would make of it, the payload as sent is what history would keep.
    const bytes = jsonBytes(payload);
    if (bytes > COMMAND_BYTE_BUDGET) {
      return {
        refusal: invalid(`${name} refused: the command is ${bytes} bytes encoded; at most ${COMMAND_BYTE_BUDGET}`, {
          command: name,
          issues: [{ path: [], message: `is ${bytes} bytes encoded; a command may take at most ${COMMAND_BYTE_BUDGET}` }],
        }),
      };
    }
    const parsed = commandSchemas[name].safeParse(payload);
    if (!parsed.success) {
      return {
        refusal: invalid(`${name} refused: ${describeIssues(parsed.error.issues)}`, {
          command: name,
          issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
        }),
      };
    }
    return { parsed: parsed.data };
  }

  /** Step 3: the pathway's decision, against the case as the handler will find it. */
  private decide(name: GateName, verdict: Verdict): void {
    const now = Date.now();
    const { snapshot: current, steps } = this.deadlines.caughtUp();
    const event = { ...verdict.parsed, type: name, at: now } as PathwayEvent;
    delete verdict.refusal;
    // Held only while the catch-up it was judged after will leave the case exactly there.
    verdict.sequence = steps < CATCH_UP_BOUND ? this.state.sequence + steps : -1;
    verdict.now = now;
    if (name === FLAG) {
      if (!current.can(event)) verdict.refusal = notAllowed(`${FLAG} refused: nothing new, or the case is closed`);
      return;
    }
    // The stage, who sent it (machines/rules.ts: checked on new commands only, never on replay),
    // then the machine's guards; every refusal names its rule.
    const refusal = commandRefusal(current, event, `case ${this.state.caseId}`);
    if (refusal) {
      verdict.refusal = notAllowed(`${name} refused: ${refusal.reason}`, { command: name, stage: stageOf(current), rule: refusal.rule });
    }
  }

  /** The payload the validator passed (or, on replay, parsed here: the same result), for the handler. */
  private parsedFor(name: GateName, payload: unknown, updateId: string | undefined): object {
    const known = updateId !== undefined ? this.verdicts.get(updateId) : undefined;
    if (updateId !== undefined) this.verdicts.delete(updateId);
    if (known?.parsed !== undefined) return known.parsed;
    return name === FLAG ? systemEventSchemas[FLAG].parse(payload) : commandSchemas[name].parse(payload);
  }

  /** The command this update repeats (same host command id), if any; a different command under the id is refused. */
  private repeatOf(type: CommandType, updateId: string | undefined): RecentCommand | undefined {
    const command = parseCommandUpdateId(updateId);
    if (!command) return undefined;
    const prior = this.state.recentCommands.find((c) => c.id === command.id);
    if (prior && prior.digest !== command.digest) {
      throw ApplicationFailure.create({
        type: 'CommandConflict',
        message: `${type} refused: command id already used for a different command`,
        nonRetryable: true,
        details: [{ command: type, commandId: command.id }],
      });
    }
    return prior;
  }

  private remember(updateId: string | undefined, result: CommandResult): void {
    const command = parseCommandUpdateId(updateId);
    if (!command) return;
    const recent = this.state.recentCommands;
    recent.push({ ...command, result });
    if (recent.length > KEPT.commands) recent.splice(0, recent.length - KEPT.commands);
  }
}
