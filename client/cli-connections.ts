// `pathway connection ...` and `pathway providers`: a case's connections to community services
// from the command line (docs/connections.md). Dispatched from client/cli.ts.
import { Option, type Command } from 'commander';
import { activityCategorySchema } from '../machines/events';
import { caseWorkflowId } from '../workflows/definitions';
import { connectionsTable, providersTable } from './format-connections';
import type { PathwayClient } from './client';
import { InvalidInputError } from './errors';

export interface ConnectionCliContext {
  client(): Promise<PathwayClient>;
  print(data: unknown, text: () => string): void;
  env: Record<string, string | undefined>;
}

const caseIdOf = (id: string) => (id.startsWith('case-') ? id : caseWorkflowId(id));

function actorId(by: string | undefined, env: Record<string, string | undefined>): string {
  const id = by ?? env['PATHWAY_STAFF_ID'];
  if (!id) throw new InvalidInputError('command line', [{ path: '--by', message: 'say who is acting: --by <id>, or set PATHWAY_STAFF_ID' }]);
  return id;
}

export function addConnectionCommands(program: Command, ctx: ConnectionCliContext): void {
  const connection = program.command('connection').description("a case's connections to community services: propose, answer, attendance");
  const as = (roles: string[], fallback: string) => new Option('--as <role>', `who is acting (default ${fallback})`).choices(roles).default(fallback);

  connection
    .command('propose <case>')
    .description('propose a service from the directory; the provider is sent the referral and has the policy deadline to answer')
    .requiredOption('--service <id>', "the service's directory id")
    .addOption(new Option('--category <category>', 'the activity category').choices([...activityCategorySchema.options]).makeOptionMandatory())
    .option('--provider <id>', 'who runs it (default: the service)')
    .option('--by <id>', 'staff id (PATHWAY_STAFF_ID)')
    .addOption(as(['linkWorker', 'supervisor'], 'linkWorker'))
    .action(async (caseId: string, o: { service: string; category: string; provider?: string; by?: string; as: string }) => {
      const v = await (await ctx.client()).proposeConnection(caseIdOf(caseId), {
        serviceId: o.service,
        category: o.category as never,
        ...(o.provider !== undefined && { providerId: o.provider }),
        actor: { role: o.as as 'linkWorker', id: actorId(o.by, ctx.env) },
      });
      ctx.print(v, () => `${v.connectionId}: ${v.status}, answer due ${v.responseDueAt ? new Date(v.responseDueAt).toISOString() : '-'}`);
    });

  connection
    .command('respond <connection>')
    .description("the provider's answer")
    .option('--accept', 'the provider takes the person on')
    .option('--decline', 'the provider cannot')
    .option('--reason <text>', 'why not (told to the link worker)')
    .option('--by <id>', 'provider staff id (PATHWAY_STAFF_ID)')
    .addOption(as(['provider', 'linkWorker', 'supervisor'], 'provider'))
    .action(async (id: string, o: { accept?: boolean; decline?: boolean; reason?: string; by?: string; as: string }) => {
      if (Boolean(o.accept) === Boolean(o.decline)) throw new InvalidInputError('command line', [{ path: '--accept/--decline', message: 'give exactly one' }]);
      const s = await (await ctx.client()).respondToConnection(id, {
        accept: Boolean(o.accept),
        ...(o.reason !== undefined && { reason: o.reason }),
        actor: { role: o.as as 'provider', id: actorId(o.by, ctx.env) },
      });
      ctx.print(s, () => `${s.connectionId}: ${s.status}`);
    });

  for (const [name, what] of [
    ['attend', 'record one attendance'],
    ['complete', 'the person finished what the service offers'],
    ['stop', 'the person stopped going (--reason)'],
  ] as const) {
    connection
      .command(`${name} <connection>`)
      .description(what)
      .option('--reason <text>', 'why (for stop)')
      .option('--by <id>', 'staff id (PATHWAY_STAFF_ID)')
      .addOption(as(['provider', 'linkWorker', 'supervisor'], 'provider'))
      .action(async (id: string, o: { reason?: string; by?: string; as: string }) => {
        const client = await ctx.client();
        const actor = { role: o.as as 'provider', id: actorId(o.by, ctx.env) };
        const s =
          name === 'attend'
            ? await client.recordAttendance(id, { actor })
            : name === 'complete'
              ? await client.completeConnection(id, { actor })
              : await client.stopConnection(id, { reason: o.reason ?? '', actor });
        ctx.print(s, () => `${s.connectionId}: ${s.status}, ${s.attendances} attendance(s)`);
      });
  }

  connection
    .command('show <connection>')
    .description('one connection: status, deadlines, nudges, attendance, suggestions')
    .action(async (id: string) => {
      const v = await (await ctx.client()).getConnection(id);
      ctx.print(v, () => connectionsTable([v]));
    });

  connection
    .command('list <case>')
    .description("a case's connections")
    .action(async (caseId: string) => {
      const list = await (await ctx.client()).listConnections(caseIdOf(caseId));
      ctx.print(list, () => connectionsTable(list));
    });

  program
    .command('providers')
    .description("providers' answers to connections in a scheme's cohort: response times, auto-declines")
    .requiredOption('--scheme <id>', 'scheme')
    .option('--not-responding', 'only providers with connections declined for them at the deadline')
    .action(async (o: { scheme: string; notResponding?: boolean }) => {
      const { report } = await (await ctx.client()).report({ schemeId: o.scheme });
      const providers = report.connections.providers.filter((p) => !o.notResponding || p.autoDeclined > 0);
      ctx.print(providers, () => providersTable(providers));
    });
}
