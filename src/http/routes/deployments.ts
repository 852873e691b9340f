import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.js';
import {
  bulkStopDeployments,
  deploy,
  deploymentStatus,
  heartbeat,
  listDeployments,
  registerServer,
  setJoinable,
  stopDeployment,
} from '../../app/deployments.js';
import { PageQuery, paginationOf } from '../../contract/common.js';
import {
  DeleteRequestReceived,
  DeleteResponse,
  DeploymentBulkStopPayload,
  DeploymentBulkStopResponse,
  Deployments,
  DeploymentUpdatePayload,
  DeploymentUpdateResponse,
  DeployModel,
  RegisterServerPayload,
  Request,
  RequestIdParams,
  Status,
} from '../../contract/deployments.js';
import { deploymentListView, statusView } from '../../contract/views.js';
import type { DeploymentRecord } from '../../domain/records.js';
import { sendFailure, sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['Deployments'];

function requestView(d: DeploymentRecord) {
  return {
    request_id: d.requestId,
    request_dns: d.fqdn || `${d.requestId}.${d.appName}`,
    request_app: d.appName,
    request_version: d.versionName,
    request_user_count: d.requestUserCount,
    city: d.place.city,
    country: d.place.country,
    continent: d.place.continent,
    administrative_division: d.place.administrativeDivision,
    tags: d.tags,
    container_log_storage: { enabled: false },
  };
}

export function registerDeploymentRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const now = () => deps.clock.now();

  app.post(
    '/v1/deploy',
    { schema: { tags, operationId: 'deploy', body: DeployModel, response: { 200: Request, ...errors(409, 422) } } },
    async (request, reply) => sendResult(reply, await deploy(deps, request.orgId, request.body), requestView),
  );

  app.get(
    '/v1/status/:request_id',
    {
      schema: {
        tags,
        operationId: 'deployment-status-get',
        params: RequestIdParams,
        response: { 200: Status, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await deploymentStatus(deps, request.orgId, request.params.request_id),
        ({ deployment, sessions }) => statusView(deployment, sessions, now()),
      ),
  );

  app.delete(
    '/v1/stop/:request_id',
    {
      schema: {
        tags,
        operationId: 'deployment-delete',
        params: RequestIdParams,
        querystring: Type.Object({ container_log_storage: Type.Optional(Type.String({ maxLength: 256 })) }),
        response: { 200: DeleteResponse, 202: DeleteRequestReceived, ...errors(404, 410) },
      },
    },
    async (request, reply) => {
      const result = await stopDeployment(deps, request.orgId, request.params.request_id);
      if (!result.ok) return sendFailure(reply, result.error);
      const { deployment, wasReady } = result.value;
      if (!wasReady)
        return reply.code(202).send({ message: `${deployment.requestId} - Delete request will be processed soon` });
      return {
        message: `Instance ${deployment.requestId} will be deleted`,
        deployment_summary: statusView(deployment, undefined, now()),
      };
    },
  );

  app.get(
    '/v1/deployments',
    {
      schema: {
        tags,
        operationId: 'deployments-get',
        querystring: PageQuery,
        response: { 200: Deployments, ...errors() },
      },
    },
    async (request) => {
      const page = request.query.page ?? 1;
      const limit = request.query.limit ?? 100;
      const { deployments, total } = await listDeployments(deps, request.orgId, page, limit);
      return {
        data: deployments.map(deploymentListView),
        total_count: total,
        pagination: paginationOf(page, limit, total),
      };
    },
  );

  app.post(
    '/v1/deployments/bulk-stop',
    {
      schema: {
        tags,
        operationId: 'deployments-bulk-delete',
        body: DeploymentBulkStopPayload,
        response: { 200: DeploymentBulkStopResponse, ...errors() },
      },
    },
    async (request, reply) =>
      sendResult(reply, await bulkStopDeployments(deps, request.orgId, request.body.filters), (ids) => ({
        processable: ids.map((request_id) => ({ request_id })),
      })),
  );

  app.patch(
    '/v1/deployments/:request_id',
    {
      schema: {
        tags,
        operationId: 'deployment-update',
        params: RequestIdParams,
        body: DeploymentUpdatePayload,
        response: { 200: DeploymentUpdateResponse, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await setJoinable(deps, request.orgId, request.params.request_id, request.body.is_joinable_by_session),
        (v) => ({ is_joinable_by_session: v }),
      ),
  );

  app.post(
    '/v1/deployments/register',
    {
      schema: {
        tags: ['Registered servers (ext)'],
        operationId: 'deployment-register',
        description: '(ext) Registers an already running game server as a READY deployment of a version.',
        body: RegisterServerPayload,
        response: { 200: Status, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await registerServer(deps, request.orgId, request.body), (d) => statusView(d, [], now())),
  );

  app.post(
    '/v1/deployments/:request_id/heartbeat',
    {
      schema: {
        tags: ['Registered servers (ext)'],
        operationId: 'deployment-heartbeat',
        description: '(ext) A registered server reports it is alive.',
        params: RequestIdParams,
        response: { 200: Status, ...errors(404, 410) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await heartbeat(deps, request.orgId, request.params.request_id), (d) =>
        statusView(d, undefined, now()),
      ),
  );
}
