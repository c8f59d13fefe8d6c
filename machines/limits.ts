// How large anything a host sends may be. Every list and string in a command, referral or policy has
// a maximum fit for the domain, so a case's state has a ceiling whatever valid commands arrive:
// Temporal refuses a workflow task whose completion passes 4 MB (gRPC), a payload over 2 MB, and
// warns at 10 MB of history, and a case that meets one of those stops answering while it still
// shows as running. One place for the numbers, so the schemas, the workflow and the docs agree.

/** Goals in one plan: a co-produced plan names a handful; twenty is generous. */
export const MAX_GOALS = 20;
/** Activities in one plan. */
export const MAX_ACTIVITIES = 30;
/** Connections to community services a case keeps the latest word of (machines/stages/connections.ts). */
export const MAX_CASE_CONNECTIONS = 30;
/** Barrier actions in one plan (nine barriers by six actions would allow more, none plan that many). */
export const MAX_BARRIER_ACTIONS = 20;
/** Free text in a command (a goal, a reason, a service): a sentence or two, never case notes. */
export const MAX_TEXT = 500;
/** Tags on a referral (needs, flags, target groups, risk flags), each a short code. */
export const MAX_TAGS = 32;
export const MAX_TAG = 64;
/** A scheme's policy: areas it serves, target groups, exclusion rules and tiers. */
export const MAX_POLICY_AREAS = 500;
export const MAX_POLICY_TARGET_GROUPS = 50;
export const MAX_POLICY_EXCLUSIONS = 50;
export const MAX_POLICY_TIERS = 10;
export const MAX_LABEL = 100;
/** Colleagues who may cover one link worker's cases (policy `ownership.covering`). */
export const MAX_COVERING_COLLEAGUES = 20;

/**
 * The most one command's payload may take, encoded as JSON (UTF-8 bytes): far under Temporal's
 * 2 MB payload limit, and above the largest payload the schemas allow in plain text (a full plan
 * is about 45 KB), so it refuses only text heavy in multi-byte characters.
 */
export const COMMAND_BYTE_BUDGET = 64 * 1024;

/**
 * The size of a value as JSON in UTF-8 bytes, counted without TextEncoder or Buffer so that the
 * workflow (deterministic sandbox) and the client compute the same number.
 */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value) ?? '';
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
