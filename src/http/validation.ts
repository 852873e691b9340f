import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Bodies are validated strictly (a string is not an array, "10" is not 10) while query strings
 * and path parameters, which are text by nature, are coerced to their declared types.
 */
const shared: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false };
const strict = new Ajv({ ...shared, coerceTypes: false });
const coercing = new Ajv({ ...shared, coerceTypes: 'array' });

/** Text PostgreSQL can store exactly: no U+0000 (refused by text and jsonb) and no lone surrogate. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  // jsonb refuses a lone surrogate (a 500) and text columns silently store U+FFFD instead.
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (it holds a lone UTF-16 surrogate)';
  return undefined;
}

interface TextProblem {
  path: string;
  message: string;
}

/** The JSON pointer of the first string (value or property name) PostgreSQL cannot store, and why. */
export function findInvalidText(value: unknown, path = ''): TextProblem | undefined {
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? { path, message } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const keyMessage = textProblem(key);
    if (keyMessage) return { path, message: `has a property name that ${keyMessage}` };
    const found = findInvalidText(item, `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A validation error for the one error handler, naming the field, as schema violations do. */
export function invalidTextError(problem: TextProblem, context: string): Error {
  return Object.assign(new Error(problem.message), {
    statusCode: 400,
    validationContext: context,
    validation: [{ instancePath: problem.path, schemaPath: '', keyword: 'text', params: {}, message: problem.message }],
  });
}

/** Bodies are checked for invalid text once, as they are parsed; see server.ts. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? strict : coercing).compile(schema);
  const check = (data: unknown): boolean => {
    if (!validate(data)) {
      check.errors = validate.errors;
      return false;
    }
    const problem = httpPart === 'body' ? undefined : findInvalidText(data);
    if (problem === undefined) return true;
    check.errors = [
      { instancePath: problem.path, schemaPath: '', keyword: 'text', params: {}, message: problem.message },
    ];
    return false;
  };
  check.errors = null as ErrorObject[] | null | undefined;
  return check as ReturnType<FastifySchemaCompiler<object>>;
};
