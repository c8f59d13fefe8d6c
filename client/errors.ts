// The client's typed errors: a host system branches on the class (or `code`), never on message text.
// Messages name fields, stages and ids, never the values a host sent: those may be about a person.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { issuePath } from '../machines/measures';
import type { RefusalRule, Stage } from '../machines';

export type PathwayErrorCode =
  | 'INVALID_INPUT'
  | 'COMMAND_REFUSED'
  | 'CASE_NOT_FOUND'
  | 'SUBSCRIPTION_NOT_FOUND'
  | 'SCHEME_NOT_FOUND'
  | 'CONFLICTING_REFERRAL'
  | 'CONSENT_REQUIRED'
  | 'COMMAND_CONFLICT'
  | 'CONFIGURATION'
  | 'CONNECTION';

export abstract class PathwayError extends Error {
  abstract readonly code: PathwayErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface InputIssue {
  /** Dotted path with [index] for arrays, e.g. `person.dateOfBirth` or `goals[0].text`. */
  path: string;
  message: string;
}

/** The input did not pass validation: nothing was sent, or the workflow refused it before recording anything. */
export class InvalidInputError extends PathwayError {
  readonly code = 'INVALID_INPUT';
  constructor(
    readonly what: string,
    readonly issues: InputIssue[],
    options?: { cause?: unknown },
  ) {
    super(`${what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, options);
  }
}

/**
 * The pathway does not allow this move now: the stage the case is in, why it said no, and the rule
 * that said it (`rule`, one of REFUSAL_RULES, e.g. 'extensionMaxLength' or 'caseOwnership'), for a
 * host to branch on instead of the reason's words.
 */
export class CommandRefusedError extends PathwayError {
  readonly code = 'COMMAND_REFUSED';
  readonly rule: RefusalRule | undefined;
  constructor(
    readonly caseId: string,
    readonly command: string,
    readonly stage: Stage | undefined,
    readonly reason: string,
    options?: { cause?: unknown; rule?: RefusalRule },
  ) {
    super(`${command} refused for ${caseId}${stage ? ` at stage '${stage}'` : ''}: ${reason}`, options);
    this.rule = options?.rule;
  }
}

export class CaseNotFoundError extends PathwayError {
  readonly code = 'CASE_NOT_FOUND';
  constructor(
    readonly caseId: string,
    options?: { cause?: unknown },
  ) {
    super(`no case ${caseId}`, options);
  }
}

/** No such subscription (never made, or deleted). */
export class SubscriptionNotFoundError extends PathwayError {
  readonly code = 'SUBSCRIPTION_NOT_FOUND';
  constructor(
    readonly subscriptionId: string,
    options?: { cause?: unknown },
  ) {
    super(`no subscription ${subscriptionId}`, options);
  }
}

/** The scheme has no capacity ledger yet: nobody has set its roster or referred to it. */
export class SchemeNotFoundError extends PathwayError {
  readonly code = 'SCHEME_NOT_FOUND';
  constructor(
    readonly schemeId: string,
    options?: { cause?: unknown },
  ) {
    super(`no capacity ledger for scheme ${schemeId}: set its roster first`, options);
  }
}

/** A referral id that is already in use for a referral with different content. */
export class ConflictingReferralError extends PathwayError {
  readonly code = 'CONFLICTING_REFERRAL';
  constructor(
    readonly referralId: string,
    readonly caseId: string,
    options?: { cause?: unknown },
  ) {
    super(`referral ${referralId} was already made with different details (case ${caseId}); a correction needs a new referral id`, options);
  }
}

/**
 * The referral says the person has not consented (`consent: false`): nothing was started or stored
 * (no case, no fingerprint in the person index). The referrer needs the person's consent first.
 */
export class ConsentRequiredError extends PathwayError {
  readonly code = 'CONSENT_REQUIRED';
  /** The field that said no. */
  readonly field = 'consent';
  constructor(
    readonly referralId: string,
    options?: { cause?: unknown },
  ) {
    super(`referral ${referralId} was not opened: consent is false, and a case needs the person's consent to the referral`, options);
  }
}

/** A command id the case already applied for a different command: a host's retry must resend the same command. */
export class CommandConflictError extends PathwayError {
  readonly code = 'COMMAND_CONFLICT';
  constructor(
    readonly caseId: string,
    readonly command: string,
    readonly commandId: string,
    options?: { cause?: unknown },
  ) {
    super(`${command} refused for ${caseId}: command id ${commandId} was already used for a different command`, options);
  }
}

/** Missing or bad keys, policies or connection settings: a setup problem, not a request problem. */
export class ConfigurationError extends PathwayError {
  readonly code = 'CONFIGURATION';
}

/** The Temporal server did not answer (wrong address, down, TLS or credentials refused). */
export class ConnectionFailedError extends PathwayError {
  readonly code = 'CONNECTION';
  constructor(
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach Temporal at ${address}: ${(options?.cause as Error | undefined)?.message ?? 'no answer'}`, options);
  }
}

/** The ApplicationFailure a workflow threw in an update's validator or handler, if that is what `err` carries. */
export function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof ApplicationFailure) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: number } | undefined)?.code === 5;
}

export function isAlreadyStarted(err: unknown): err is WorkflowExecutionAlreadyStartedError {
  return err instanceof WorkflowExecutionAlreadyStartedError;
}

/** `a.b[0].c`, the workflow's and zod's paths in the one notation the client reports. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(input)' : issuePath(path);
}

interface FailureDetails {
  command?: string;
  commandId?: string;
  stage?: Stage;
  rule?: RefusalRule;
  issues?: Array<{ path: string[]; message: string }>;
}

/**
 * What an update's failure means for a case command: the workflow's validator reports bad payloads
 * as `InvalidCommand` (with zod issues in details) and moves the pathway refuses as
 * `CommandNotAllowed` (with the stage in details).
 */
export function commandError(caseId: string, command: string, err: unknown): unknown {
  if (isNotFound(err)) return new CaseNotFoundError(caseId, { cause: err });
  const failure = err instanceof WorkflowUpdateFailedError || err instanceof ApplicationFailure ? applicationFailureOf(err) : undefined;
  if (!failure) return err;
  const details = (failure.details?.[0] ?? {}) as FailureDetails;
  const message = failure.message.replace(new RegExp(`^${command.replace(/\./g, '\\.')} refused: `), '');
  if (failure.type === 'InvalidCommand') {
    const issues = details.issues?.map((i) => ({ path: formatPath(i.path.map((k) => (/^\d+$/.test(k) ? Number(k) : k))), message: i.message })) ?? [{ path: '(input)', message }];
    return new InvalidInputError(command, issues, { cause: err });
  }
  if (failure.type === 'CommandConflict') {
    return new CommandConflictError(caseId, command, details.commandId ?? '(unknown)', { cause: err });
  }
  if (failure.type === 'CommandNotAllowed') {
    return new CommandRefusedError(caseId, command, details.stage, message, { cause: err, ...(details.rule && { rule: details.rule }) });
  }
  return err;
}
