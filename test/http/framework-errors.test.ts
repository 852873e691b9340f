/**
 * Errors raised before or outside a route (the HTTP parser, the router) answer `{message, code}`
 * as JSON like every other. 431 and malformed requests never reach Fastify's hooks, so they are
 * sent over a real socket here.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { useTestService } from '../support/harness.js';
import { expectError } from './wire-shapes.js';

interface RawAnswer {
  status: number;
  headers: string;
  body: unknown;
}

/** Sends `text` as is and reads the answer until the server closes the connection. */
function rawRequest(url: string, text: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const split = answer.indexOf('\r\n\r\n');
      const head = answer.slice(0, split);
      try {
        resolve({
          status: Number(head.split(' ')[1]),
          headers: head.toLowerCase(),
          body: JSON.parse(answer.slice(split + 4)),
        });
      } catch (error) {
        reject(new Error(`not JSON: ${JSON.stringify(answer.slice(0, 300))}`, { cause: error }));
      }
    });
  });
}

const lines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

describe('framework errors', { timeout: 60_000 }, () => {
  const { t, call } = useTestService({ env: { LOG_LEVEL: 'warn' }, server: { logStream } });
  const get = (path: string, extra = '') =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: token ${t.key}\r\n${extra}Connection: close\r\n\r\n`;

  it('answers every refusal of the parser and the router as {message, code} JSON', async () => {
    const probes: Array<[string, string, number, string]> = [
      ['malformed percent-encoding', get('/v1/session/%E0%A4%A'), 400, 'MALFORMED_URL'],
      ['invalid UTF-8 in a path', get('/v1/app/%ff'), 400, 'MALFORMED_URL'],
      ['a path parameter over 500 characters', get(`/v1/session/${'a'.repeat(600)}`), 414, 'URI_TOO_LONG'],
      ['oversized headers', get('/v1/apps', `X-Big: ${'a'.repeat(20_000)}\r\n`), 431, 'HEADERS_TOO_LARGE'],
      ['an oversized request line', get(`/v1/apps?${'a'.repeat(70_000)}`), 431, 'HEADERS_TOO_LARGE'],
      [
        'an unknown method',
        'FOO /v1/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        400,
        'MALFORMED_REQUEST',
      ],
      ['not HTTP at all', 'GARBAGE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      [
        'an unreadable Content-Length',
        `POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n`,
        400,
        'MALFORMED_REQUEST',
      ],
      ['an unknown route', get('/v1/nothing'), 404, 'ROUTE_NOT_FOUND'],
      [
        'a wrong method',
        `PATCH /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: token ${t.key}\r\nConnection: close\r\n\r\n`,
        405,
        'METHOD_NOT_ALLOWED',
      ],
    ];
    for (const [name, text, status, code] of probes) {
      const answer = await rawRequest(t.url, text);
      assert.equal(answer.status, status, name);
      assert.match(answer.headers, /content-type: application\/json/, name);
      const body = answer.body as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['code', 'message'], `${name}: ${JSON.stringify(body)}`);
      assert.equal(body['code'], code, name);
      assert.equal(typeof body['message'], 'string');
    }
  });

  it('answers a wrong method on a known path 405 with Allow, whatever the slashes', async () => {
    const r = await call('PUT', '//v1/session/0123456789ab-S/');
    assert.match(expectError(r, 405, 'METHOD_NOT_ALLOWED'), /GET/);
    assert.deepEqual(r.headers.get('allow')?.split(', ').sort(), ['DELETE', 'GET', 'HEAD']);
    expectError(await call('DELETE', '/v1/sessions'), 405, 'METHOD_NOT_ALLOWED');
    expectError(await call('GET', '/v1/no/such/thing'), 404, 'ROUTE_NOT_FOUND');
  });

  it('logs a database error by code, constraint and table only, never the data around it', async () => {
    const secret = `private-token-${Date.now()}`;
    let caught: unknown;
    try {
      await t.service.deps.db.query(`SELECT ($1::text)::int AS n`, [secret]);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught, 'the statement failed');
    t.service.app.log.error({ err: caught }, 'probe');
    const logged = lines.find((line) => line.includes('"probe"'));
    assert.ok(logged, 'the error was logged');
    assert.equal(logged.includes(secret), false, logged);
    assert.match(logged, /"code":"22P02"/);
  });
});
