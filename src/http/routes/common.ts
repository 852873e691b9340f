import { Type } from '@sinclair/typebox';

const error = Type.Ref('Error');

/** Error responses for the OpenAPI document; every one is `{message, code}`. */
export function errors(...statuses: number[]): Record<number, ReturnType<typeof Type.Ref>> {
  return Object.fromEntries([401, 400, ...statuses].map((s) => [s, error]));
}
