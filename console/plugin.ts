// The supervisor console as a Fastify plugin: register it under `/console` in any Fastify app.
// Sign-in is OpenID Connect (authorization code + PKCE) against the configured IdP; the session is
// a random id in a signed, HttpOnly, SameSite=Lax cookie (Secure when the console is served over
// TLS) naming a server-side session held in this process's memory (sessions end on restart; run
// one console process, or put the store somewhere shared before running several). Every form
// carries the session's CSRF token, checked on every POST. Commands carry the actor from the
// session, never from the request; supervisor-only moves are refused here (403) before the
// workflow refuses them too.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import {
  CaseNotFoundError,
  CommandRefusedError,
  InvalidInputError,
  SchemeNotFoundError,
  caseFiltersSchema,
  type CaseFilters,
  type CaseSummary,
  type CaseView,
  type PathwayClient,
} from '../client';
import { reportToHtml } from '../evidence/html';
import { COMMAND_TYPES, type CommandType } from '../machines';
import { CONSOLE_CSS, CONSOLE_JS } from './assets';
import { callerFromSession, mayCallerCommand } from '../http/auth';
import { DEFAULT_CLAIM_MAPPING, userFromClaims, type ClaimMapping, type SignedInUser } from './roles';
import { caseListPage, casePage, escalationIds, escalationRows, escalationsPage, layout, messagePage, overviewPage, type PageContext, type SchemeOverview } from './views';

export interface ConsoleOptions {
  client: PathwayClient;
  /** Where browsers reach the app (scheme, host, port), e.g. `https://console.example.org`. */
  publicUrl: string;
  /** The path the plugin is registered under; `/console` unless the host chose another. */
  prefix?: string;
  oidc: { issuer: string; clientId: string; clientSecret: string; scope?: string };
  claims?: Partial<ClaimMapping>;
  /** Signs the session cookie: at least 32 random characters, kept secret. */
  cookieSecret: string;
  /** Idle sessions end after this long (default 8 hours). */
  sessionTtlMs?: number;
  /** Pages stamp times with this (tests). */
  now?: () => number;
}

interface Session {
  user: SignedInUser;
  /** Sent back to the IdP on sign-out so it ends its own session too. */
  idToken?: string;
  csrf: string;
  expiresAt: number;
}
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}

const SESSION_COOKIE = 'console_sid';
const LOGIN_COOKIE = 'console_login';
const token = () => randomBytes(32).toString('base64url');

/** The supervisor console; see the file header for its security model. */
export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { client } = options;
  const base = options.prefix ?? '/console';
  const publicUrl = new URL(options.publicUrl);
  const secure = publicUrl.protocol === 'https:';
  const mapping: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, ...options.claims };
  const ttl = options.sessionTtlMs ?? 8 * 3_600_000;
  const now = options.now ?? Date.now;
  const callbackUrl = new URL(`${base}/callback`, publicUrl).href;
  const sessions = new Map<string, Session>();
  const logins = new Map<string, PendingLogin>();
  const idpOrigin = new URL(options.oidc.issuer).origin;

  let config: Promise<oidc.Configuration> | undefined;
  const idp = () => {
    config ??= oidc
      .discovery(
        new URL(options.oidc.issuer),
        options.oidc.clientId,
        options.oidc.clientSecret,
        undefined,
        // A loopback dev IdP speaks plain HTTP; any other issuer must be HTTPS.
        new URL(options.oidc.issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        config = undefined;
        throw err;
      });
    return config;
  };

  // The host app (the FHIR gateway) may have registered these already; the console signs its own
  // cookies with its own secret either way, so it never depends on the host's cookie secret.
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);
  const sign = (value: string) => cookie.sign(value, options.cookieSecret);
  const unsign = (raw: string | undefined) => {
    if (!raw) return undefined;
    const r = cookie.unsign(raw, options.cookieSecret);
    return r.valid && r.value ? r.value : undefined;
  };

  const cookieOptions = { path: base, httpOnly: true, sameSite: 'lax' as const, secure };

  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy'))
      reply.header(
        'content-security-policy',
        `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self' ${idpOrigin}; frame-ancestors 'none'; base-uri 'none'`,
      );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const sessionOf = (request: FastifyRequest): Session | undefined => {
    const sid = unsign(request.cookies[SESSION_COOKIE]);
    if (!sid) return undefined;
    const s = sessions.get(sid);
    if (!s) return undefined;
    if (s.expiresAt < now()) {
      sessions.delete(sid);
      return undefined;
    }
    s.expiresAt = now() + ttl;
    return s;
  };
  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const ctxOf = (s: Session): PageContext => ({ base, user: s.user, csrf: s.csrf, now: now() });
  const refuse = (reply: FastifyReply, s: Session | undefined, status: number, title: string, text: string) =>
    html(reply, status, messagePage(s ? ctxOf(s) : { base }, title, text, s ? { href: `${base}/`, label: 'Back to the overview' } : { href: `${base}/login`, label: 'Sign in' }));

  /** The signed-in session for a page, or a redirect to sign in. */
  const page = async (request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> => {
    const s = sessionOf(request);
    if (!s) {
      await reply.redirect(`${base}/login`, 303);
      return undefined;
    }
    return s;
  };
  /** The signed-in session for a POST whose CSRF token matches, or a refusal. */
  const post = async (request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> => {
    const s = sessionOf(request);
    if (!s) {
      await refuse(reply, undefined, 401, 'Signed out', 'Your session has ended. Sign in again; nothing was changed.');
      return undefined;
    }
    const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
    const ok = typeof sent === 'string' && sent.length === s.csrf.length && timingSafeEqual(Buffer.from(sent), Buffer.from(s.csrf));
    if (!ok) {
      await refuse(reply, s, 403, 'Form expired', 'The form was not sent from this console session. Nothing was changed; reload the page and try again.');
      return undefined;
    }
    return s;
  };
  /** The case, if the user may see its scheme; anything else reads as not found. */
  const caseFor = async (s: Session, caseId: string): Promise<CaseView | undefined> => {
    try {
      const view = await client.getCase(caseId);
      return s.user.schemes.includes(view.schemeId) ? view : undefined;
    } catch (err) {
      if (err instanceof CaseNotFoundError || err instanceof InvalidInputError) return undefined;
      throw err;
    }
  };

  // Anything unexpected (the engine unreachable, a timeout) becomes a page that quotes nothing:
  // error messages may carry details that are not the browser's to see.
  app.setErrorHandler(async (err, request, reply) => {
    request.log.error({ error: (err as Error).name, code: (err as { code?: string }).code }, 'console request failed');
    const s = sessionOf(request);
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return refuse(reply, s, status, 'Bad request', 'The console could not read that request. Nothing was changed.');
    return refuse(reply, s, 503, 'Engine unavailable', 'The engine did not answer in time. Look at the case again before repeating a command.');
  });

  // ---- Assets -------------------------------------------------------------------------------------
  app.get('/assets/console.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(CONSOLE_JS));
  app.get('/assets/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(CONSOLE_CSS));

  // ---- Sign-in ------------------------------------------------------------------------------------
  app.get('/login', async (_request, reply) => {
    let configuration: oidc.Configuration;
    try {
      configuration = await idp();
    } catch {
      return html(reply, 503, messagePage({ base }, 'Sign-in unavailable', 'The identity provider could not be reached. Try again in a minute.'));
    }
    const pending: PendingLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), expiresAt: now() + 10 * 60_000 };
    const key = token();
    logins.set(key, pending);
    for (const [k, v] of logins) if (v.expiresAt < now()) logins.delete(k);
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: callbackUrl,
      scope: options.oidc.scope ?? 'openid profile console',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    reply.setCookie(LOGIN_COOKIE, sign(key), { ...cookieOptions, maxAge: 600 });
    return reply.redirect(url.href, 303);
  });

  app.get('/callback', async (request, reply) => {
    const key = unsign(request.cookies[LOGIN_COOKIE]);
    const pending = key ? logins.get(key) : undefined;
    if (key) logins.delete(key);
    reply.clearCookie(LOGIN_COOKIE, { path: base });
    if (!pending || pending.expiresAt < now()) return refuse(reply, undefined, 400, 'Sign-in expired', 'The sign-in took too long or was started elsewhere. Sign in again.');
    let claims: Record<string, unknown> | undefined;
    let idToken: string | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(await idp(), new URL(request.url, publicUrl), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims() as Record<string, unknown> | undefined;
      idToken = tokens.id_token;
    } catch (err) {
      request.log.warn({ error: (err as Error).name }, 'console sign-in failed');
      return refuse(reply, undefined, 401, 'Sign-in failed', 'The identity provider did not confirm the sign-in. Sign in again.');
    }
    const user = userFromClaims(claims ?? {}, mapping);
    if ('refused' in user) return refuse(reply, undefined, 403, 'No access', `You are signed in, but ${user.refused}. Ask an administrator for a console role.`);
    const sid = token();
    sessions.set(sid, { user, csrf: token(), expiresAt: now() + ttl, ...(idToken && { idToken }) });
    reply.setCookie(SESSION_COOKIE, sign(sid), cookieOptions);
    return reply.redirect(`${base}/`, 303);
  });

  app.post('/logout', async (request, reply) => {
    const s = await post(request, reply);
    if (!s) return reply;
    for (const [k, v] of sessions) if (v === s) sessions.delete(k);
    reply.clearCookie(SESSION_COOKIE, { path: base });
    // Ends the IdP's session too where it offers that (RP-initiated logout), so the next person at
    // this browser is asked to sign in rather than let straight back in.
    const signedOut = new URL(`${base}/signed-out`, publicUrl).href;
    const configuration = await idp().catch(() => undefined);
    if (configuration?.serverMetadata().end_session_endpoint && s.idToken) {
      const url = oidc.buildEndSessionUrl(configuration, { id_token_hint: s.idToken, post_logout_redirect_uri: signedOut, client_id: options.oidc.clientId });
      return reply.redirect(url.href, 303);
    }
    return reply.redirect(`${base}/signed-out`, 303);
  });
  app.get('/signed-out', async (_request, reply) => html(reply, 200, messagePage({ base }, 'Signed out', 'You have signed out of the console.', { href: `${base}/login`, label: 'Sign in again' })));

  // ---- Pages --------------------------------------------------------------------------------------
  const gapsCache = new Map<string, { at: number; gaps: SchemeOverview['serviceGaps'] }>();
  const serviceGaps = async (schemeId: string) => {
    const hit = gapsCache.get(schemeId);
    if (hit && hit.at > now() - 60_000) return hit.gaps;
    const gaps = (await client.report({ schemeId })).report.community.serviceGaps.map((g) => ({ kind: g.kind, gaps: g.gaps }));
    gapsCache.set(schemeId, { at: now(), gaps });
    return gaps;
  };

  app.get('/', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const schemes = await Promise.all(
      s.user.schemes.map(async (schemeId): Promise<SchemeOverview> => {
        const [caseloads, escalations, overdue, duplicates, gaps] = await Promise.all([
          client.caseloads(schemeId).catch((err: unknown) => {
            if (err instanceof SchemeNotFoundError) return undefined;
            throw err;
          }),
          client.escalations({ scheme: schemeId }),
          client.listCases({ scheme: schemeId, stage: 'review', overdue: true, open: true }),
          client.listCases({ scheme: schemeId, possibleDuplicate: true, open: true }),
          serviceGaps(schemeId),
        ]);
        return { schemeId, ...(caseloads && { caseloads }), escalations, reviewsOverdue: overdue.length, possibleDuplicates: duplicates.length, serviceGaps: gaps };
      }),
    );
    return html(reply, 200, overviewPage(ctxOf(s), schemes));
  });

  const schemeQuery = (s: Session, request: FastifyRequest) => {
    const asked = (request.query as Record<string, unknown>).scheme;
    return typeof asked === 'string' && asked !== '' ? (s.user.schemes.includes(asked) ? [asked] : []) : s.user.schemes;
  };
  const escalationsFor = async (s: Session, request: FastifyRequest) =>
    (await Promise.all(schemeQuery(s, request).map((scheme) => client.escalations({ scheme })))).flat().sort((a, b) => a.raisedAt - b.raisedAt);

  app.get('/escalations', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const items = await escalationsFor(s, request);
    const scheme = (request.query as Record<string, unknown>).scheme;
    return html(reply, 200, escalationsPage(ctxOf(s), items, typeof scheme === 'string' ? `scheme=${encodeURIComponent(scheme)}` : ''));
  });
  app.get('/escalations/rows', async (request, reply) => {
    const s = sessionOf(request);
    if (!s) return reply.code(401).send();
    const items = await escalationsFor(s, request);
    return reply.header('x-escalation-ids', escalationIds(items)).type('text/html; charset=utf-8').send(escalationRows(ctxOf(s), items));
  });

  const FILTER_KEYS = ['stage', 'linkWorker', 'tier'] as const;
  const BOOLEAN_KEYS = ['overdue', 'escalated', 'possibleDuplicate', 'open'] as const;
  app.get('/cases', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const q = request.query as Record<string, unknown>;
    const filters: Record<string, unknown> = {};
    for (const k of FILTER_KEYS) if (typeof q[k] === 'string' && q[k] !== '') filters[k] = q[k];
    for (const k of BOOLEAN_KEYS) if (q[k] === 'true' || q[k] === 'false') filters[k] = q[k] === 'true';
    if (filters.open === undefined) filters.open = true;
    const parsed = caseFiltersSchema.safeParse({ ...filters, limit: 1000 });
    if (!parsed.success) return refuse(reply, s, 400, 'Unknown filter', 'One of the list filters is not one the console knows. Nothing was changed.');
    const lists = await Promise.all(schemeQuery(s, request).map((scheme) => client.listCases({ ...(parsed.data as CaseFilters), scheme })));
    return html(reply, 200, caseListPage(ctxOf(s), lists.flat(), 'Cases'));
  });

  app.get('/mine', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const cases = (await client.listCases({ linkWorker: s.user.id, open: true, limit: 1000 })).filter((c) => c.schemeId !== undefined && s.user.schemes.includes(c.schemeId));
    const byDeadline = (a: CaseSummary, b: CaseSummary) => (a.nextDueAt ?? Infinity) - (b.nextDueAt ?? Infinity);
    return html(reply, 200, caseListPage(ctxOf(s), cases.sort(byDeadline), 'My caseload, by next deadline'));
  });

  app.get('/cases/:caseId', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const view = await caseFor(s, (request.params as { caseId: string }).caseId);
    if (!view) return refuse(reply, s, 404, 'Case not found', 'There is no case with that id in your schemes.');
    return html(reply, 200, casePage(ctxOf(s), view));
  });

  app.get('/report', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const form = `<form method="get" action="${base}/report/view"><label for="r-scheme">Scheme</label> <select id="r-scheme" name="scheme">${s.user.schemes
      .map((x) => `<option>${x}</option>`)
      .join('')}</select> <label for="r-from">From</label> <input id="r-from" name="from" type="date"> <label for="r-to">To (before)</label> <input id="r-to" name="to" type="date"> <button type="submit">Show report</button></form>`;
    return html(reply, 200, layout(ctxOf(s), 'Cohort report', `<p>The outcomes report of one scheme's referrals in a period.</p>${form}`));
  });
  app.get('/report/view', async (request, reply) => {
    const s = await page(request, reply);
    if (!s) return reply;
    const q = request.query as Record<string, unknown>;
    const schemeId = typeof q.scheme === 'string' ? q.scheme : '';
    if (!s.user.schemes.includes(schemeId)) return refuse(reply, s, 404, 'Scheme not found', 'You may not see that scheme.');
    const period = (k: string) => (typeof q[k] === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(q[k] as string) ? (q[k] as string) : undefined);
    const from = period('from');
    const to = period('to');
    const { report, unreadable } = await client.report({ schemeId, ...(from && { from }), ...(to && { to }) });
    const back = `<p><a href="${base}/report">Back to the console</a>${unreadable.length ? ` · ${unreadable.length} case(s) could not be read and are missing from this report` : ''}</p>`;
    // The report is its own document with its own stylesheet; still no script.
    reply.header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
    return html(reply, 200, reportToHtml(report).replace('<body>', `<body>${back}`));
  });

  // ---- Commands -----------------------------------------------------------------------------------
  const FIELDS: Partial<Record<CommandType, string[]>> = {
    'CONTACT.ATTEMPT': ['outcome', 'channel'],
    'EXTENSION.REFUSE': ['reason'],
    'SAFEGUARDING.RAISE': ['category'],
    'ESCALATION.ACK': ['escalationId', 'note'],
    DISCHARGE: ['reason'],
    'DUPLICATE.RESOLVE': ['resolution'],
  };
  app.post('/cases/:caseId/commands/:type', async (request, reply) => {
    const s = await post(request, reply);
    if (!s) return reply;
    const { caseId, type } = request.params as { caseId: string; type: string };
    if (!(COMMAND_TYPES as string[]).includes(type)) return refuse(reply, s, 404, 'Unknown command', 'The console has no such command. Nothing was changed.');
    const command = type as CommandType;
    const caller = callerFromSession(s.user);
    if (!caller || !mayCallerCommand(caller, command))
      return refuse(reply, s, 403, 'Not allowed', `Your role (${s.user.role}) may not do this. Nothing was changed.`);
    const view = await caseFor(s, caseId);
    if (!view) return refuse(reply, s, 404, 'Case not found', 'There is no case with that id in your schemes. Nothing was changed.');
    const body = request.body as Record<string, unknown>;
    const payload: Record<string, unknown> = { actor: caller.actor };
    for (const f of FIELDS[command] ?? []) if (typeof body[f] === 'string' && body[f] !== '') payload[f] = body[f];
    try {
      await client.send(view.caseId, command, payload as never);
    } catch (err) {
      if (err instanceof CommandRefusedError || err instanceof InvalidInputError) {
        return html(reply, err instanceof InvalidInputError ? 400 : 409, casePage(ctxOf(s), await client.getCase(view.caseId), `Not done: ${err.message}`));
      }
      throw err;
    }
    const to = body.from === 'queue' ? `${base}/escalations` : `${base}/cases/${encodeURIComponent(view.caseId)}`;
    return reply.redirect(to, 303);
  });
}
