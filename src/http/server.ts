import { randomUUID } from 'node:crypto';
import { isQuietRoute } from '../observability/operator-log.js';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../app/deps.js';
import { ErrorBody } from '../contract/common.js';
import { registerAuth } from './auth.js';
import { registerIdempotency } from './idempotency.js';
import { registerRateLimit } from './rate-limit.js';
import { registerLoadShedding, type LoadSheddingOptions } from './load-shedding.js';
import { sendFailure, toFailure } from './errors.js';
import { answerClientError, answerFrameworkError, notFoundHandler } from './framework-errors.js';
import { loggableError } from '../observability/error-log.js';
import { findInvalidText, invalidTextError, validatorCompiler } from './validation.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerAppRoutes } from './routes/apps.js';
import { registerDeploymentRoutes } from './routes/deployments.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerGeoRoutes } from './routes/geo.js';

export interface ServerOptions {
  logLevel?: string;
  /** Where log lines go (default: stdout); tests read them to check what a log may say. */
  logStream?: NodeJS.WritableStream;
  bodyLimitBytes?: number;
  /** Extra authenticated /v1 routes (webhooks, events...) registered by other modules. */
  extraRoutes?: Array<(app: FastifyInstance, deps: AppDeps) => void>;
  /** Per-key request rate limit; off when absent or perSecond is 0. */
  rateLimit?: { perSecond: number; burst: number };
  /** Server timeouts; Node's defaults when absent. */
  timeouts?: ServerTimeouts;
  /** 503 + Retry-After when the event loop falls behind (load-shedding.ts); off when absent. */
  loadShedding?: LoadSheddingOptions;
  /** Unauthenticated routes (metrics, dashboard assets...). */
  publicRoutes?: Array<(app: FastifyInstance, deps: AppDeps) => void | Promise<void>>;
}

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** JSON.parse reviver: drops object properties whose value is null (returning undefined removes them). */
function nullPropertiesAsAbsent(this: unknown, _key: string, value: unknown): unknown {
  return value === null && !Array.isArray(this) ? undefined : value;
}

export interface ServerTimeouts {
  /** Time to receive a whole request. */
  requestMs: number;
  /** Time to receive the request line and headers (a slow-headers client is dropped). */
  headersMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveMs: number;
  /** A socket with no traffic at all is closed after this long. */
  connectionMs: number;
}

export interface RouteEntry {
  method: string;
  url: string;
  /** Registered inside the API-key plugin: every call needs a key of the organisation. */
  readonly isAuthenticated: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route served, so tests cover a new route automatically. */
    routeTable: RouteEntry[];
  }
}

/** Builds the HTTP app around the given dependencies. Never listens by itself. */
export async function buildServer(deps: AppDeps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      serializers: { err: loggableError },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // One line per request is written by the onResponse hook below, with the organisation.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
    requestIdHeader: false,
    ...(options.timeouts
      ? {
          requestTimeout: options.timeouts.requestMs,
          keepAliveTimeout: options.timeouts.keepAliveMs,
          connectionTimeout: options.timeouts.connectionMs,
        }
      : {}),
    // The reply is returned for chaining; Fastify expects nothing back from this hook.
    frameworkErrors: (error, request, reply) => void answerFrameworkError(error, request, reply),
    clientErrorHandler: answerClientError,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // Node refuses a headers timeout longer than the request timeout.
  if (options.timeouts) app.server.headersTimeout = Math.min(options.timeouts.headersMs, options.timeouts.requestMs);
  if (options.loadShedding) registerLoadShedding(app, options.loadShedding);
  const routeTable: RouteEntry[] = [];
  const keyedRoutes = new Set<string>();
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const id = `${method} ${route.url}`;
      routeTable.push({
        method,
        url: route.url,
        get isAuthenticated() {
          return keyedRoutes.has(id);
        },
      });
    }
  });

  // Clients send JSON under many content types (or none); every body is parsed as JSON. Some
  // generated Edgegap clients send unset optional fields as null: an object property that is
  // null counts as absent (no request field has a meaningful null). Nulls in arrays stay.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      // The reviver slows the parse several times over; a body without the word null has no null.
      parsed = text.includes('null') ? JSON.parse(text, nullPropertiesAsAbsent) : JSON.parse(text);
    } catch {
      return done(new SyntaxError('The request body is not valid JSON.'), undefined);
    }
    // Here rather than in each route's schema: routes without a body schema are covered too.
    const problem = findInvalidText(parsed);
    done(problem ? invalidTextError(problem, 'body') : null, problem ? undefined : parsed);
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Health checks, scrapes and static files would drown the log: only at debug level.
    const route = request.routeOptions.url ?? 'unmatched';
    const log =
      isQuietRoute(route) && reply.statusCode < 500
        ? request.log.debug.bind(request.log)
        : request.log.info.bind(request.log);
    log(
      {
        org: request.orgId || undefined,
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
  app.setErrorHandler((error, request, reply) => sendFailure(reply, toFailure(error as Error, request)));
  app.setNotFoundHandler(notFoundHandler(app));

  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Rallypoint',
        version: '0.1.0',
        description: "Game session service speaking Edgegap's v1 Sessions API.",
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'authorization' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerHealthRoutes(app, deps);
  for (const route of options.publicRoutes ?? []) await route(app, deps);

  await app.register(async (v1) => {
    v1.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) keyedRoutes.add(`${method} ${route.url}`);
    });
    registerAuth(v1, deps.db);
    if (options.rateLimit) await registerRateLimit(v1, options.rateLimit);
    registerIdempotency(v1, deps);
    registerSessionRoutes(v1, deps);
    registerAppRoutes(v1, deps);
    registerDeploymentRoutes(v1, deps);
    registerKeyRoutes(v1, deps);
    registerGeoRoutes(v1, deps);
    registerHostRoutes(v1, deps);
    for (const route of options.extraRoutes ?? []) route(v1, deps);
  });
  return app;
}
