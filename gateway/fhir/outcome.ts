// Every refusal the gateway gives is a FHIR OperationOutcome: the HTTP status, an issue code from
// FHIR's issue-type value set, and `expression` naming the field. Diagnostics describe the rule that
// failed, never the value sent: a value may be about a person. The resource itself is built by
// resources.ts's operationOutcome, the one builder.

export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'conflict'
  | 'business-rule'
  | 'too-costly'
  | 'exception'
  | 'processing'
  | 'transient'
  | 'expired';

export interface Issue {
  code: IssueType;
  /** FHIRPath of the field at fault, e.g. `Patient.birthDate`. */
  expression?: string;
  diagnostics: string;
}

/** A request the gateway refuses: thrown anywhere below a route, answered by the app's error handler. */
export class FhirError extends Error {
  readonly issues: Issue[];
  constructor(
    readonly status: number,
    issues: Issue | Issue[],
    readonly headers: Record<string, string> = {},
  ) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => `${i.expression ?? ''}: ${i.diagnostics}`).join('; '));
    this.issues = list;
  }
}

export const invalid = (expression: string, diagnostics: string, code: IssueType = 'invalid') => new FhirError(400, { code, expression, diagnostics });
