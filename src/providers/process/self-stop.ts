/**
 * (ext) `DELETE /v1/self/stop/{request_id}`: the route ARBITRIUM_DELETE_URL points to, so a game
 * server can end its own deployment (Edgegap's self-stop) with the per-deployment token it was
 * given in ARBITRIUM_DELETE_TOKEN (header `Authorization: <token>`; `token <token>` also works).
 * It holds no API key, so this route sits outside the /v1 key check.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.js';
import { endDeploymentIn } from '../../app/deployment-lifecycle.js';
import { errors } from '../../http/routes/common.js';
import { sendResult } from '../../http/errors.js';
import { selectDeploymentByRequestIdAnyOrg } from '../../db/queries/lifetimes.js';
import { RequestIdParams } from '../../contract/deployments.js';
import { fail, ok, type Result } from '../../domain/errors.js';
import { DeploymentStatus, isLiveDeployment } from '../../domain/session-rules.js';
import { Type } from '@sinclair/typebox';
import { hashDeleteToken } from '../process.js';

function tokenOf(header: string | undefined): string | undefined {
  const value = header?.trim().replace(/^(token|bearer)\s+/i, '');
  return value === undefined || value === '' ? undefined : value;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Ends the deployment as if stopped through DELETE /v1/stop. Unknown id and wrong token answer alike. */
export async function selfStopDeployment(deps: AppDeps, requestId: string, token: string | undefined): Promise<Result<string>> {
  const target = await selectDeploymentByRequestIdAnyOrg(deps.db, requestId);
  const expected = target?.providerData['deleteTokenHash'];
  if (!target || token === undefined || typeof expected !== 'string' || !sameHash(hashDeleteToken(token), expected)) {
    return fail('UNAUTHORIZED', 'Unknown deployment or wrong ARBITRIUM_DELETE_TOKEN.');
  }
  if (!isLiveDeployment(target.status)) return fail('ALREADY_TERMINATING', `Deployment ${requestId} is already ${target.status}.`);
  const ended = await deps.db.transaction((tx) =>
    endDeploymentIn(deps, tx, target.id, { status: DeploymentStatus.terminating, detail: `Deployment ${requestId} stopped itself.` }),
  );
  return ended ? ok(requestId) : fail('ALREADY_TERMINATING', `Deployment ${requestId} is already terminating.`);
}

export function registerSelfStopRoute(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.delete('/v1/self/stop/:request_id', {
    schema: {
      tags: ['Process provider (ext)'], operationId: 'deployment-self-stop', security: [],
      description: '(ext) A game server started by the process provider stops its own deployment with ARBITRIUM_DELETE_TOKEN.',
      params: RequestIdParams, response: { 200: Type.Object({ message: Type.String() }), ...errors(401, 410) },
    },
  }, async (request, reply) =>
    sendResult(reply, await selfStopDeployment(deps, request.params.request_id, tokenOf(request.headers.authorization)), (id) => ({
      message: `Instance ${id} will be deleted`,
    })));
}
