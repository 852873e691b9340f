import { Type } from '@sinclair/typebox';

/** (ext) An API key as listed; the secret key itself appears only in the create answer. */
export const ApiKey = Type.Object({
  key_id: Type.String(),
  name: Type.String(),
  create_time: Type.String(),
  revoked: Type.Boolean(),
  revoke_time: Type.Optional(Type.String()),
});
export const ApiKeyCreate = Type.Object({ name: Type.Optional(Type.String({ maxLength: 128 })) });
export const CreatedApiKey = Type.Composite([ApiKey, Type.Object({ key: Type.String() })]);
export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKey) });
export const KeyIdParams = Type.Object({ key_id: Type.String({ maxLength: 64 }) });
