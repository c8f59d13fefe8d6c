// `pathway directory ...`: import a council's ORUK directory into a scheme's service directory,
// search it as a link worker would, read its gap register. Needs no Temporal server: the directory
// is reference data in its own database (PATHWAY_DIRECTORY_DB, default .data/directory.sqlite).
import { resolve } from 'node:path';
import { CommanderError, Option, type Command } from 'commander';
import { activityCategorySchema } from '../machines/events';
import { safeIdSchema } from '../machines';
import {
  directoryLocation,
  DirectorySourceError,
  importDirectory,
  openDirectory,
  UnknownNeedError,
  type ImportReport,
  type MatchQuery,
  type SqlDirectory,
} from '../directory';
import { WEEKDAYS } from '../directory/hsds';
import type { PathwayClient } from './client';
import type { RemovedServiceConnection } from './connections';

export interface DirectoryIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** The Temporal client, asked for only when an import removed services (open connections are told). */
export type DirectoryClient = () => Promise<PathwayClient>;

const USAGE = 2;

/** Prints the message and ends the command with the usage exit code. */
function usage(io: DirectoryIo, message: string): never {
  io.err(`error: ${message}`);
  throw new CommanderError(USAGE, 'pathway.directory', message);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function schemeOf(io: DirectoryIo, scheme: string): string {
  const parsed = safeIdSchema.safeParse(scheme);
  if (!parsed.success) usage(io, '--scheme: must be a scheme id of letters, digits, ".", "_", ":" or "-"');
  return parsed.data;
}

async function withDirectory<T>(io: DirectoryIo, db: string | undefined, fn: (d: SqlDirectory) => Promise<T>): Promise<T> {
  const directory = await openDirectory(directoryLocation(db, io.env, io.cwd));
  try {
    return await fn(directory);
  } catch (err) {
    if (err instanceof DirectorySourceError || err instanceof UnknownNeedError) usage(io, err.message);
    throw err;
  } finally {
    await directory.close();
  }
}

export function importSummary(r: ImportReport): string {
  const lines = [
    `scheme ${r.schemeId}: read ${r.read} service(s); ${r.added.length} added, ${r.updated.length} updated, ${r.unchanged} unchanged, ` +
      `${r.removed.length} removed, ${r.refused.length} refused`,
  ];
  for (const s of r.removed) lines.push(`  removed ${s.id} (${s.name}): no longer listed; open connections to it are told`);
  for (const f of r.refused) lines.push(`  refused ${f.recordId} ${f.path}: ${f.reason}`);
  return lines.join('\n');
}

function toldSummary(told: RemovedServiceConnection[]): string {
  if (told.length === 0) return 'no open connection to a removed service';
  return [`told ${told.length} open connection(s) their service was removed:`, ...told.map((c) => `  ${c.connectionId}`)].join('\n');
}

/** Tells the open connections to removed services; the import itself is done whatever happens here. */
async function tellConnections(io: DirectoryIo, client: DirectoryClient, schemeId: string, serviceIds: string[]): Promise<RemovedServiceConnection[]> {
  try {
    return await (await client()).serviceRemoved(schemeId, serviceIds);
  } catch (err) {
    io.err(
      `the import is done, but open connections to the removed services could not be told: ${(err as Error)?.message ?? 'error'}\n` +
        `tell them once the server answers: pathway directory tell-removed --scheme ${schemeId} ${serviceIds.join(' ')}`,
    );
    throw err;
  }
}

function nearOf(io: DirectoryIo, text: string): { latitude: number; longitude: number } {
  const [lat, lon, ...rest] = text.split(',').map((p) => Number(p.trim()));
  if (rest.length > 0 || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat!) > 90 || Math.abs(lon!) > 180) {
    usage(io, '--near: must be LATITUDE,LONGITUDE (a place, never a person\'s address)');
  }
  return { latitude: lat!, longitude: lon! };
}

/** Adds `directory` to the program; made with its `command()`, so it inherits exitOverride and output. */
export function addDirectoryCommands(program: Command, io: DirectoryIo, json: () => boolean, client: DirectoryClient): Command {
  const directory = program.command('directory').description("a scheme's service directory (Open Referral UK / HSDS 3.0): import, search, gaps");
  const dbOption = () => new Option('--db <path>', 'SQLite file or postgres:// URL (default: PATHWAY_DIRECTORY_DB or .data/directory.sqlite)');

  directory
    .command('import <source>')
    .description('import a JSON export (an array of services or a paged /services answer) or an ORUK API base URL; re-import to apply changes')
    .requiredOption('--scheme <id>', 'scheme')
    .addOption(dbOption())
    .option('--no-tell-connections', 'do not tell open connections to removed services (no Temporal server is needed then)')
    .action(async (source: string, o: { scheme: string; db?: string; tellConnections: boolean }) => {
      const schemeId = schemeOf(io, o.scheme);
      const report = await withDirectory(io, o.db, (d) => importDirectory(d, schemeId, /^https?:\/\//i.test(source) ? source : resolve(io.cwd, source)));
      if (!o.tellConnections || report.removed.length === 0) {
        io.out(json() ? JSON.stringify(report, null, 2) : importSummary(report));
        return;
      }
      if (!json()) io.out(importSummary(report));
      const told = await tellConnections(io, client, schemeId, report.removed.map((s) => s.id));
      io.out(json() ? JSON.stringify({ ...report, connectionsTold: told }, null, 2) : toldSummary(told));
    });

  directory
    .command('tell-removed <serviceId...>')
    .description("tell the scheme's open connections to these services that the directory no longer lists them")
    .requiredOption('--scheme <id>', 'scheme')
    .action(async (serviceIds: string[], o: { scheme: string }) => {
      const schemeId = schemeOf(io, o.scheme);
      const told = await (await client()).serviceRemoved(schemeId, serviceIds);
      io.out(json() ? JSON.stringify(told, null, 2) : toldSummary(told));
    });

  directory
    .command('search')
    .description('find services for needs (taxonomy term codes or activity categories), ranked and explained')
    .requiredOption('--scheme <id>', 'scheme')
    .requiredOption('--need <need>', `a need: a term code (loneliness, walking-groups...) or a category (${activityCategorySchema.options.join(', ')}); repeatable`, collect)
    .option('--area <area>', 'only services serving this area')
    .option('--step-free', 'only step-free venues')
    .option('--free', 'only free services')
    .option('--transport', 'only services on a bus route or that bring people')
    .addOption(new Option('--day <day>', 'only services open that day').choices([...WEEKDAYS]))
    .option('--time <HH:MM>', 'with --day: open at this time')
    .option('--near <lat,lon>', 'rank by distance from this place')
    .option('--max-miles <miles>', 'with --near: no further than this')
    .option('--exclude <serviceId>', 'a service already tried; repeatable', collect)
    .option('--limit <n>', 'at most this many (default 10)')
    .option('--preview', 'do not record needs nothing met in the gap register')
    .addOption(dbOption())
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const num = (flag: string, v: unknown) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!(n > 0)) usage(io, `--${flag}: must be a positive number`);
        return n;
      };
      if (o['time'] !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(o['time'] as string)) usage(io, '--time: must be HH:MM');
      const limit = num('limit', o['limit']);
      const maxMiles = num('max-miles', o['maxMiles']);
      const query: MatchQuery = {
        schemeId: schemeOf(io, o['scheme'] as string),
        needs: o['need'] as string[],
        ...(o['area'] !== undefined && { area: o['area'] as string }),
        ...(o['stepFree'] === true && { needsStepFree: true }),
        ...(o['free'] === true && { needsFree: true }),
        ...(o['transport'] === true && { needsTransport: true }),
        ...(o['day'] !== undefined && { day: o['day'] as NonNullable<MatchQuery['day']> }),
        ...(o['time'] !== undefined && { time: o['time'] as string }),
        ...(o['near'] !== undefined && { near: nearOf(io, o['near'] as string) }),
        ...(maxMiles !== undefined && { maxMiles }),
        ...(o['exclude'] !== undefined && { excludeServiceIds: o['exclude'] as string[] }),
        ...(limit !== undefined && { limit: Math.floor(limit) }),
        ...(o['preview'] === true && { recordUnmet: false }),
      };
      const results = await withDirectory(io, o['db'] as string | undefined, (d) => d.match(query));
      if (json()) return io.out(JSON.stringify(results, null, 2));
      if (results.length === 0) return io.out(`no match for ${query.needs.join(', ')}${query.area ? ` in ${query.area}` : ''}${query.recordUnmet === false ? '' : ' (recorded as an unmet need)'}`);
      io.out(results.map((r, i) => `${i + 1}. ${r.name} (${r.organizationName ?? ''}) [${r.serviceId}]\n   ${r.explanation}`).join('\n'));
    });

  directory
    .command('gaps')
    .description('the gap register: needs searched for that nothing met, per area and category')
    .requiredOption('--scheme <id>', 'scheme')
    .addOption(dbOption())
    .action(async (o: { scheme: string; db?: string }) => {
      const gaps = await withDirectory(io, o.db, (d) => d.unmetNeeds(schemeOf(io, o.scheme)));
      if (json()) return io.out(JSON.stringify(gaps, null, 2));
      if (gaps.length === 0) return io.out('no unmet needs recorded');
      io.out(
        ['area               category    need                 times  last searched', ...gaps.map((g) =>
          `${(g.area ?? '(any)').padEnd(18)} ${(g.category ?? '-').padEnd(11)} ${g.need.padEnd(20)} ${String(g.times).padStart(5)}  ${new Date(g.lastSeen).toISOString().slice(0, 10)}`,
        )].join('\n'),
      );
    });
  return directory;
}
