/**
 * Wire checks shared by the HTTP contract tests: answers validated against the public Edgegap
 * definitions (edgegap-shapes.ts), the no-null rule, and the formats of docs/wire-contract.md#formats.
 */
import assert from 'node:assert/strict';
import { Ajv, type ValidateFunction } from 'ajv';
import { createOrganisation } from '../../src/app/keys.js';
import { client, type ApiResponse, type TestService } from '../support/harness.js';
import { edgegapDefinitions } from './edgegap-shapes.js';

export const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;
export const SESSION_ID = /^[0-9a-f]{12}-S$/;
export const REQUEST_ID = /^[0-9a-f]{12}$/;

// Swagger 2.0 cannot say "nullable"; the contract allows null on exactly these two fields.
const definitions = structuredClone(edgegapDefinitions) as Record<string, { properties: Record<string, unknown> }>;
for (const field of ['next_page_number', 'previous_page_number']) {
  definitions['Pagination']!.properties[field] = { type: ['integer', 'null'] };
}
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ definitions }, 'edgegap');
const compiled = new Map<string, ValidateFunction>();

/** Asserts `body` matches the named definition of the Edgegap subset spec. */
export function assertShape(definition: string, body: unknown): void {
  let validate = compiled.get(definition);
  if (!validate) {
    assert.ok(definition in definitions, `no definition ${definition}`);
    validate = ajv.compile({ $ref: `edgegap#/definitions/${definition}` });
    compiled.set(definition, validate);
  }
  assert.ok(validate(body), `${definition}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body)}`);
}

const NULL_ALLOWED = new Set(['pagination.next_page_number', 'pagination.previous_page_number']);

/** docs/wire-contract.md#no-null: no null anywhere, except the two pagination page numbers. */
export function assertNoNulls(body: unknown, path = ''): void {
  if (body === null) {
    assert.ok(NULL_ALLOWED.has(path), `null at ${path || '(root)'}`);
    return;
  }
  if (Array.isArray(body)) body.forEach((item, i) => assertNoNulls(item, `${path}[${i}]`));
  else if (typeof body === 'object') {
    for (const [key, value] of Object.entries(body as Record<string, unknown>))
      assertNoNulls(value, path ? `${path}.${key}` : key);
  }
}

/** Status, JSON content type, no nulls and the Edgegap shape, in one call. */
export function expectOk(response: ApiResponse, definition: string, status = 200): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assertNoNulls(response.body);
  assertShape(definition, response.body);
}

/** A 4xx with the contract's error body; returns the message for further checks. */
export function expectError(response: ApiResponse, status: number, code?: string): string {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assertShape('Error', response.body);
  const body = response.body as { message: string; code?: string };
  assert.ok(body.message.length > 0, 'empty error message');
  assert.doesNotMatch(body.message, /at .+\.js:\d+/, 'stack trace in message');
  if (code !== undefined) assert.equal(body.code, code);
  return body.message;
}

/** A new organisation on the same service: its own key, nothing in it. */
export async function newTenant(t: TestService): Promise<ReturnType<typeof client>> {
  const { key } = await createOrganisation(t.service.deps, `org-${Math.random().toString(16).slice(2, 10)}`);
  return client(t.url, key);
}
