/**
 * Errors Fastify and Node's HTTP parser raise before or outside a route, answered like every
 * other error: `{message, code}` as JSON. Oversized headers (431) and unparsable requests are
 * refused by the parser before any route or hook runs, so they are written to the socket here.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf, type Failure } from '../domain/errors.js';
import { sendFailure, toFailure } from './errors.js';

/** Errors of Node's HTTP parser, by the code Node gives them. */
function parserFailure(code: string | undefined): Failure {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { code: 'HEADERS_TOO_LARGE', message: 'The request line and headers are larger than this server accepts.' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    return { code: 'REQUEST_TIMEOUT', message: 'The request was not received in time.' };
  }
  return { code: 'MALFORMED_REQUEST', message: 'The request is not valid HTTP/1.1.' };
}

/** Fastify's clientErrorHandler: the request never reached the router. */
export function answerClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const failure = parserFailure(error.code);
  const status = httpStatusOf(failure.code);
  const body = JSON.stringify({ message: failure.message, code: failure.code });
  this.log.debug({ code: error.code, status }, 'client error');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's frameworkErrors: a URL the router cannot read (bad percent-encoding, long parameter). */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendFailure(reply, toFailure(error, request));
}

/** `/v1//session/` is `/v1/session`: the router ignores repeated and trailing slashes too. */
function normalisedPath(url: string): string {
  const path = (url.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function templatePattern(template: string): RegExp {
  const source = template
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/**
 * The not-found handler: 405 with `Allow` when the path exists for other methods, else 404.
 * The route table is read at the first miss, once every route is registered.
 */
export function notFoundHandler(app: FastifyInstance): (request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  let routes: Array<{ method: string; pattern: RegExp }> | undefined;
  return (request, reply) => {
    routes ??= app.routeTable.map((route) => ({ method: route.method, pattern: templatePattern(route.url) }));
    const path = normalisedPath(request.url);
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      reply.header('allow', allowed.join(', '));
      return sendFailure(reply, {
        code: 'METHOD_NOT_ALLOWED',
        message: `${request.method} is not allowed here; use ${allowed.join(', ')}.`,
      });
    }
    return sendFailure(reply, {
      code: 'ROUTE_NOT_FOUND',
      message: `No route ${request.method} ${path.slice(0, 200)}.`,
    });
  };
}
