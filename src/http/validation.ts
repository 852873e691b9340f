import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Bodies are validated strictly (a string is not an array, "10" is not 10) while query strings
 * and path parameters, which are text by nature, are coerced to their declared types.
 */
const shared: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false };
const strict = new Ajv({ ...shared, coerceTypes: false });
const coercing = new Ajv({ ...shared, coerceTypes: 'array' });

/**
 * PostgreSQL text and jsonb cannot hold U+0000: such a value would fail in the driver as a 500.
 * Returns the JSON pointer of the first string (value or key) that holds one.
 */
function findNulCharacter(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return path;
    const found = findNulCharacter(item, `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? strict : coercing).compile(schema);
  const check = (data: unknown): boolean => {
    if (!validate(data)) {
      check.errors = validate.errors;
      return false;
    }
    const path = findNulCharacter(data);
    if (path === undefined) return true;
    check.errors = [{ instancePath: path, schemaPath: '', keyword: 'nul', params: {}, message: 'must not contain the NUL character (\\u0000)' }];
    return false;
  };
  check.errors = null as ErrorObject[] | null | undefined;
  return check as ReturnType<FastifySchemaCompiler<object>>;
};
