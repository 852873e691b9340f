/**
 * Routes a game server calls from inside its container or process, with the per-deployment
 * tokens it was started with (header `Authorization: <token>`; `token <token>` works too). It
 * holds no API key, so these sit outside the /v1 key check:
 *   GET    /v1/context/{request_id}/{security_number}      ARBITRIUM_CONTEXT_URL + _TOKEN
 *   DELETE /v1/self/stop/{request_id}/{access_point_id}    ARBITRIUM_DELETE_URL + _TOKEN
 *   DELETE /v1/self/stop/{request_id}                      (ext) the same, without the number
 * And, with the organisation's key, what its containers say: logs and resource use.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.js';
import { deploymentLogs, deploymentMetrics, gameServerContext, selfStopDeployment } from '../../app/game-servers.js';
import { RequestIdParams } from '../../contract/deployments.js';
import { Deployment } from '../../contract/sessions.js';
import {
  ContainerLogs,
  ContextParams,
  MetricsQuery,
  MetricsResponse,
  SelfStopAnswer,
  SelfStopParams,
  SelfStopQuery,
} from '../../contract/game-servers.js';
import { deploymentView } from '../../contract/views.js';
import type { DeploymentLogs, DeploymentMetricsSample } from '../../providers/provider.js';
import { formatTimestamp } from '../../domain/time-format.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

function tokenOf(header: string | undefined): string | undefined {
  const value = header?.trim().replace(/^(token|bearer)\s+/i, '');
  return value === undefined || value === '' ? undefined : value;
}

const stopped = (id: string) => ({ message: `Instance ${id} will be deleted` });

export function registerGameServerRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Game servers'];

  app.get(
    '/v1/context/:request_id/:security_number',
    {
      schema: {
        tags,
        operationId: 'context-get',
        security: [],
        description: 'A game server reads its own deployment with ARBITRIUM_CONTEXT_TOKEN.',
        params: ContextParams,
        response: { 200: Deployment, ...errors() },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await gameServerContext(
          deps,
          request.params.request_id,
          Number(request.params.security_number),
          tokenOf(request.headers.authorization),
        ),
        deploymentView,
      ),
  );

  app.delete(
    '/v1/self/stop/:request_id/:access_point_id',
    {
      schema: {
        tags,
        operationId: 'self-deployment-delete',
        security: [],
        description: 'A game server stops its own deployment with ARBITRIUM_DELETE_TOKEN.',
        params: SelfStopParams,
        querystring: SelfStopQuery,
        response: { 200: SelfStopAnswer, ...errors(410) },
      },
    },
    async (request, reply) => {
      const { request_id: requestId, access_point_id: accessPoint } = request.params;
      return sendResult(
        reply,
        await selfStopDeployment(deps, requestId, tokenOf(request.headers.authorization), Number(accessPoint)),
        stopped,
      );
    },
  );

  app.delete(
    '/v1/self/stop/:request_id',
    {
      schema: {
        tags,
        operationId: 'deployment-self-stop',
        security: [],
        description:
          '(ext) The self-stop without the access point number, for game servers that build the URL themselves.',
        params: RequestIdParams,
        response: { 200: SelfStopAnswer, ...errors(410) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await selfStopDeployment(deps, request.params.request_id, tokenOf(request.headers.authorization)),
        stopped,
      ),
  );
}

function logsView(found: DeploymentLogs): ContainerLogs {
  const crash = found.exitCode !== undefined || found.message !== undefined || found.restartCount !== undefined;
  return {
    logs: found.logs,
    encoding: 'utf-8',
    ...(found.crashLogs !== undefined ? { crash_logs: found.crashLogs } : {}),
    ...(crash
      ? {
          crash_data: {
            ...(typeof found.exitCode === 'number' ? { exit_code: found.exitCode } : {}),
            ...(found.message !== undefined ? { message: found.message } : {}),
            restart_count: found.restartCount ?? 0,
          },
        }
      : {}),
  };
}

/** Edgegap's series: cpu in percent of one vCPU, memory in MB, network and disk in bytes (totals since start). */
export function metricsView(samples: DeploymentMetricsSample[]): MetricsResponse {
  const series = (value: (s: DeploymentMetricsSample) => number) => ({
    labels: samples.map((s) => s.at.toISOString().slice(11, 19)),
    datasets: samples.map((s) => Math.round(value(s) * 100) / 100),
    timestamps: samples.map((s) => formatTimestamp(s.at).slice(0, 23)),
  });
  const receive = series((s) => s.networkReceiveBytes);
  const transmit = series((s) => s.networkTransmitBytes);
  return {
    total: {
      receive_total: receive,
      transmit_total: transmit,
      disk_read_total: series((s) => s.diskReadBytes),
      disk_write_total: series((s) => s.diskWriteBytes),
    },
    cpu: series((s) => s.cpuPercent),
    mem: series((s) => s.memoryBytes / (1024 * 1024)),
    network: { receive, transmit },
  };
}

export function registerDeploymentTelemetryRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/deployment/:request_id/container-logs',
    {
      schema: {
        tags: ['Deployments'],
        operationId: 'deployment-get-logs',
        params: RequestIdParams,
        response: { 200: ContainerLogs, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await deploymentLogs(deps, request.orgId, request.params.request_id), logsView),
  );

  app.get(
    '/v1/metrics/deployment/:request_id',
    {
      schema: {
        tags: ['Metrics'],
        operationId: 'deployment-metrics-get',
        params: RequestIdParams,
        querystring: MetricsQuery,
        response: { 200: MetricsResponse, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await deploymentMetrics(deps, request.orgId, request.params.request_id), metricsView),
  );
}
