import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiKey, ApiKeyCreate, ApiKeyList, CreatedApiKey, KeyIdParams } from '../../contract/keys.js';
import type { AppDeps } from '../../app/deps.js';
import { createApiKey, listApiKeys, revokeKey } from '../../app/keys.js';
import type { ApiKeyRecord } from '../../domain/records.js';
import { formatTimestamp } from '../../domain/time-format.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['API keys (ext)'];

function keyView(k: ApiKeyRecord) {
  return {
    key_id: k.keyId,
    name: k.name,
    create_time: formatTimestamp(k.createdAt),
    revoked: k.revokedAt !== null,
    ...(k.revokedAt ? { revoke_time: formatTimestamp(k.revokedAt) } : {}),
  };
}

/** (ext) Manage the organisation's API keys. A new key is shown once, in the create answer. */
export function registerKeyRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/keys',
    {
      schema: {
        tags,
        operationId: 'key-create',
        body: ApiKeyCreate,
        response: { 200: CreatedApiKey, ...errors() },
      },
    },
    async (request) => {
      const { key, record } = await createApiKey(deps, request.orgId, request.body?.name ?? '');
      return { ...keyView(record), key };
    },
  );

  app.get(
    '/v1/keys',
    { schema: { tags, operationId: 'key-list', response: { 200: ApiKeyList, ...errors() } } },
    async (request) => ({ keys: (await listApiKeys(deps, request.orgId)).map(keyView) }),
  );

  app.delete(
    '/v1/keys/:key_id',
    {
      schema: { tags, operationId: 'key-revoke', params: KeyIdParams, response: { 200: ApiKey, ...errors(404, 409) } },
    },
    async (request, reply) => sendResult(reply, await revokeKey(deps, request.orgId, request.params.key_id), keyView),
  );
}
