// `import { PathwayClient } from 'social-prescribing-engine/client'`: everything a host system needs,
// and the types of everything it gets back.
export {
  PathwayClient,
  DEFAULT_TASK_QUEUE,
  clientDataConverter,
  type ClientSettings,
  type ConnectOptions,
  type ReferOptions,
  type ReferralResult,
  type EscalationItem,
  type ReportOptions,
  type CohortReportResult,
  type CommandInput,
  type CommandOptions,
} from './client';
export {
  PathwayError,
  InvalidInputError,
  CommandRefusedError,
  CaseNotFoundError,
  SubscriptionNotFoundError,
  SchemeNotFoundError,
  ConflictingReferralError,
  ConsentRequiredError,
  CommandConflictError,
  ConfigurationError,
  ConnectionFailedError,
  type PathwayErrorCode,
  type InputIssue,
} from './errors';
export { PersonKey, PERSON_KEY_ENV } from './person';
export { hostReferralSchema, personSchema, isValidNhsNumber, nhsCheckDigit, ageAt, type HostReferral, type Person } from './referral';
export { caseFiltersSchema, type CaseFilters, type CaseSummary } from './queries';
export { COMMAND_METHODS, type CommandMethod } from './commands';
export { subscriptionIdSchema, subscribeInputSchema, type SubscribeInput } from './subscriptions';
export type { SubscriptionState, SubscriptionRecord, SubscriptionStatusCode } from '../workflows/subscription-definitions';

export type { CaseView, CommandResult, TimelineEntry } from '../workflows/definitions';
export type { Caseloads, LinkWorker } from '../workflows/ledger-definitions';
export type { PossibleDuplicate, PersonMatch } from '../workflows/person-index-definitions';
export type { OutcomeRecord } from '../evidence/outcomeRecord';
export type { CohortReport } from '../evidence/report';
export type {
  Actor,
  CommandType,
  CommandPayload,
  Escalation,
  EscalationType,
  DischargeReason,
  SchemePolicy,
  SchemePolicyInput,
  Stage,
  Timer,
  ReferralRoute,
} from '../machines';
export { COMMAND_TYPES, STAGES, DISCHARGE_REASONS, ESCALATION_TYPES, commandSchemas, scalePolicy, parsePolicy } from '../machines';
export { ConnectionRefusedError, ConnectionNotFoundError } from './errors';
export { proposeConnectionSchema, type ProposeConnectionInput, type ConnectionCommandInput, type RemovedServiceConnection } from './connections';
export type { ConnectionSummary, ConnectionStatus } from '../machines/connection';
export type { ConnectionView } from '../workflows/connection-definitions';
