// The service directory for hosts: open a scheme's directory where it is configured, import a
// council's ORUK export into it, search it. The contract the connection loop uses is in types.ts.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SqlDirectory, type ImportReport } from './directory';
import { isUrl, readRecordsFromApi, readRecordsFromFile } from './source';

export { SqlDirectory, type ImportReport, type UnmetByCategory, type UnmetNeed } from './directory';
export { DirectorySourceError, UnknownNeedError } from './errors';
export type { RefusedRecord } from './hsds';
export type { DirectoryService, MatchQuery, MatchResult, ServiceDirectory } from './types';

/** The variable naming the directory's database: a SQLite file or a `postgres://` connection string. */
export const DIRECTORY_DB_ENV = 'PATHWAY_DIRECTORY_DB';

/** An explicit location, else PATHWAY_DIRECTORY_DB, else `.data/directory.sqlite` (git-ignored) under `cwd`. */
export function directoryLocation(explicit: string | undefined, env: Record<string, string | undefined>, cwd: string): string {
  const location = explicit ?? env[DIRECTORY_DB_ENV] ?? '.data/directory.sqlite';
  if (location === ':memory:' || /^postgres(ql)?:\/\//.test(location)) return location;
  return resolve(cwd, location);
}

export async function openDirectory(location: string, options: { now?: () => number } = {}): Promise<SqlDirectory> {
  if (location !== ':memory:' && !/^postgres(ql)?:\/\//.test(location)) mkdirSync(dirname(location), { recursive: true });
  return SqlDirectory.open(location, options);
}

/** Imports a JSON file or an ORUK API base URL into the scheme's directory. */
export async function importDirectory(directory: SqlDirectory, schemeId: string, source: string, fetchImpl?: typeof fetch): Promise<ImportReport> {
  const records = isUrl(source) ? await readRecordsFromApi(source, fetchImpl) : await readRecordsFromFile(source);
  return directory.importRecords(schemeId, records);
}
