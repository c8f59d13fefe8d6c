// What the gateway implements, said once for FHIR clients (CapabilityStatement) and once for
// everyone else (OpenAPI). Keep both to exactly the routes in app.ts and subscriptions.ts.
import { BACKPORT_EXTENSIONS, CHANNEL, TASK_STATUS_TOPIC } from './fhir/subscription';

export function capabilityStatement(base: string) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-04',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    patchFormat: ['application/json-patch+json'],
    implementation: { description: 'Social prescribing engine: FHIR R4 gateway (HL7 Gravity referral management)', url: base },
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          description: 'OAuth 2.0 bearer JWTs (SMART backend services). Scopes: system/Task.cru (refer, cancel, staff moves, a provider answering an onward referral), system/Task.rs (read, search), system/ServiceRequest.r, system/HealthcareService.r, system/Observation.rs (the outcome at discharge), system/Subscription.crd (Task subscriptions). A `schemes` claim binds a client to its schemes; a `provider` role token names its organisation in an `organisation` claim and sees only the onward referrals sent to it.',
        },
        interaction: [{ code: 'transaction', documentation: 'A referral: one Task (focus: the ServiceRequest) with its Patient and Consent.' }],
        resource: [
          {
            type: 'Task',
            profile: 'http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-TaskForReferralManagement',
            documentation:
              "Two kinds: a case's referral Task (id `case-…`), and an onward referral to a community service (id `cn-…`, partOf the case's Task, owner the provider's Organization, focus the directory's HealthcareService). A provider answers an onward referral by its status: accepted, rejected, in-progress (first attendance), completed, cancelled or failed (with statusReason.text).",
            interaction: [
              { code: 'create' },
              { code: 'read' },
              { code: 'search-type' },
              { code: 'update', documentation: "a case's Task: status cancelled only; an onward referral: status and statusReason.text, by its provider" },
              { code: 'patch', documentation: "a case's Task: /status to cancelled only; an onward referral: /status and /statusReason, and test of /status" },
            ],
            searchParam: [
              { name: 'owner', type: 'reference', documentation: 'the scheme; for a provider token, Organization/{its id}: its open onward referrals' },
              { name: 'part-of', type: 'reference', documentation: "Task/{case Task id}: that case's onward referrals (its referrer, or staff of its scheme)" },
              { name: 'status', type: 'token' },
              { name: 'focus', type: 'reference' },
              { name: '_lastUpdated', type: 'date', documentation: 'gt, ge, lt, le' },
              { name: '_count', type: 'number' },
              { name: '_offset', type: 'number' },
            ],
            operation: [
              { name: 'pathway-command', definition: `${base}/OperationDefinition/pathway-command`, documentation: 'A pathway command as the token\'s actor: Parameters `command` (valueCode) and `payload` (valueString, JSON without actor).' },
              { name: 'record-attendance', definition: `${base}/OperationDefinition/record-attendance`, documentation: 'One attendance on an onward referral (the first moves it to in-progress); no parameters.' },
            ],
          },
          { type: 'ServiceRequest', interaction: [{ code: 'read' }] },
          {
            type: 'Observation',
            documentation: "The outcome at discharge (Task.output references it): the discharge reason, the GP's SNOMED CT code and the measures before and after, all based-on the case's ServiceRequest. Codes only when the scheme's policy says so.",
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [{ name: 'based-on', type: 'reference', documentation: 'ServiceRequest/{id}: the outcome of that referral' }],
          },
          {
            type: 'HealthcareService',
            documentation: 'One per scheme: accepting, waitlist or not accepting, and a wait band, from the capacity ledger (characteristic).',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [{ name: 'identifier', type: 'token' }, { name: '_id', type: 'token' }],
          },
          {
            type: 'Subscription',
            extension: [{ url: BACKPORT_EXTENSIONS.topicCanonical, valueCanonical: TASK_STATUS_TOPIC }],
            documentation: `Subscriptions R5 Backport on R4: criteria ${TASK_STATUS_TOPIC} (a referral Task's status or businessStatus changed), filter Task?owner={scheme} (one of the token's schemes), channel ${CHANNEL.type}, payload ${CHANNEL.payload} with ${CHANNEL.content} content. Each notification carries events-since-subscription-start and its event number; a subscription belongs to the client that made it.`,
            interaction: [{ code: 'create' }, { code: 'read' }, { code: 'delete' }],
            operation: [{ name: 'status', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status' }],
          },
        ],
      },
    ],
  };
}

const fhirBody = { content: { 'application/fhir+json': { schema: { type: 'object' } } } };
const outcome = (description: string) => ({ description, ...fhirBody });
const errors = { '400': outcome('Malformed: an OperationOutcome naming the field'), '401': outcome('No or bad token'), '403': outcome('Scope, role or scheme not granted'), '404': outcome('No such resource') };

export function openApiDocument(base: string) {
  const id = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  return {
    openapi: '3.0.3',
    info: { title: 'Social prescribing FHIR R4 gateway', version: '0.1.0', description: 'Refer, follow and cancel social-prescribing referrals, and read their outcome, as FHIR R4 (HL7 Gravity referral pattern). See /fhir/metadata.' },
    servers: [{ url: base.replace(/\/fhir$/, '') }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths: {
      '/fhir/metadata': { get: { summary: 'CapabilityStatement', security: [], responses: { '200': outcome('CapabilityStatement') } } },
      '/fhir': { post: { summary: 'Refer with a transaction Bundle', requestBody: fhirBody, responses: { '200': outcome('transaction-response Bundle'), '409': outcome('Identifier reused with different content'), '422': outcome('No consent'), ...errors } } },
      '/fhir/Task': {
        post: { summary: 'Refer: a Task whose focus is a contained ServiceRequest', requestBody: fhirBody, responses: { '201': outcome('The new Task'), '200': outcome('The existing Task (same referral again)'), '409': outcome('Identifier reused with different content'), '422': outcome('No consent'), ...errors } },
        get: {
          summary: 'Search Tasks (Gravity polling)',
          parameters: ['owner', 'status', 'focus', 'part-of', '_lastUpdated', '_count', '_offset'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: { '200': outcome('searchset Bundle'), ...errors },
        },
      },
      '/fhir/Task/{id}': {
        parameters: id,
        get: { summary: 'Read a Task (the case, or an onward referral)', responses: { '200': outcome('Task'), ...errors } },
        put: { summary: "Cancel a case's Task (status cancelled), or answer an onward referral (status, statusReason.text)", requestBody: fhirBody, responses: { '200': outcome('Task'), '409': outcome('The status does not take that move'), '422': outcome('A status that cannot be set'), ...errors } },
        patch: {
          summary: "JSON Patch: a case's /status to cancelled, or an onward referral's /status and /statusReason",
          requestBody: { content: { 'application/json-patch+json': { schema: { type: 'array' } } } },
          responses: { '200': outcome('Task'), '409': outcome('The status does not take that move'), '422': outcome('A status that cannot be set'), ...errors },
        },
      },
      '/fhir/Task/{id}/$record-attendance': { parameters: id, post: { summary: 'One attendance on an onward referral', responses: { '200': outcome('Task'), '409': outcome('The onward referral takes no attendance now'), ...errors } } },
      '/fhir/Task/{id}/$pathway-command': { parameters: id, post: { summary: 'A pathway command as the token\'s actor', requestBody: fhirBody, responses: { '200': outcome('Task'), '409': outcome('The pathway refused'), ...errors } } },
      '/fhir/Observation': {
        get: { summary: "A discharged referral's outcome: the Observations based on its ServiceRequest", parameters: [{ name: 'based-on', in: 'query', required: true, schema: { type: 'string' }, description: 'ServiceRequest/{id}' }], responses: { '200': outcome('searchset Bundle'), ...errors } },
      },
      '/fhir/Observation/{id}': { parameters: id, get: { summary: 'One outcome Observation (as Task.output references it)', responses: { '200': outcome('Observation'), ...errors } } },
      '/fhir/HealthcareService': { get: { summary: 'Schemes with their availability and wait band', parameters: ['identifier', '_id'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })), responses: { '200': outcome('searchset Bundle'), ...errors } } },
      '/fhir/HealthcareService/{id}': { parameters: id, get: { summary: 'A scheme with its availability and wait band', responses: { '200': outcome('HealthcareService'), ...errors } } },
      '/fhir/Subscription': { post: { summary: `Subscribe to Task status changes (criteria ${TASK_STATUS_TOPIC}, rest-hook, id-only)`, requestBody: fhirBody, responses: { '201': outcome('The Subscription'), ...errors } } },
      '/fhir/Subscription/{id}': {
        parameters: id,
        get: { summary: 'Read one of your subscriptions', responses: { '200': outcome('Subscription'), ...errors } },
        delete: { summary: 'End one of your subscriptions', responses: { '204': { description: 'Ended' }, ...errors } },
      },
      '/fhir/Subscription/{id}/$status': { parameters: id, get: { summary: 'Its status and events-since-subscription-start', responses: { '200': outcome('searchset Bundle of the status Parameters'), ...errors } } },
      '/fhir/ServiceRequest/{id}': { parameters: id, get: { summary: 'Read the ServiceRequest', responses: { '200': outcome('ServiceRequest'), ...errors } } },
    },
  };
}
