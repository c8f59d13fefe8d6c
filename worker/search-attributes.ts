import type { Connection } from '@temporalio/client';
import { pathwaySearchAttributes } from '../workflows/search-attributes';

// temporal.api.enums.v1.IndexedValueType, by the SDK's SearchAttributeType names.
const indexedValueType = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 } as const;

const UNIMPLEMENTED = 12;
const ALREADY_EXISTS = 6;

/**
 * Registers the pathway's search attributes on a server we did not start with them (a cluster the
 * user points at, or the time-skipping test server). Idempotent: attributes already there are
 * left alone. The Java test server answers ListSearchAttributes with UNIMPLEMENTED but does
 * implement AddSearchAttributes, so then all are added blind.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  let known: Record<string, unknown> = {};
  try {
    known = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if ((err as { code?: number }).code !== UNIMPLEMENTED) throw err;
  }
  const missing = pathwaySearchAttributes.filter((key) => !(key.name in known));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType[key.type]])),
    });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
}
