import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.js';
import { createApp, deleteApp, findApp, listApps, patchApp } from '../../app/apps.js';
import {
  createVersion,
  deleteVersion,
  findVersion,
  listVersions,
  patchVersion,
  type VersionInput,
} from '../../app/versions.js';
import {
  AppDeleteResponse,
  Application,
  ApplicationPatch,
  ApplicationPost,
  Applications,
  AppNameParams,
  AppVersion,
  AppVersionDelete,
  AppVersionList,
  AppVersionParams,
  AppVersionPayload,
  AppVersionUpdatePayload,
  AppVersionWriteResponse,
} from '../../contract/apps.js';
import { applicationView, versionView } from '../../contract/views.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['Applications'];

export function registerAppRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/app',
    {
      schema: {
        tags,
        operationId: 'application-post',
        body: ApplicationPost,
        response: { 200: Application, ...errors(409) },
      },
    },
    async (request, reply) => {
      const { name, is_active, is_telemetry_agent_active, image } = request.body;
      return sendResult(
        reply,
        await createApp(deps, request.orgId, {
          name,
          isActive: is_active,
          isTelemetryAgentActive: is_telemetry_agent_active,
          image,
        }),
        applicationView,
      );
    },
  );

  app.get(
    '/v1/app/:app_name',
    {
      schema: {
        tags,
        operationId: 'application-get',
        params: AppNameParams,
        response: { 200: Application, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await findApp(deps, request.orgId, request.params.app_name), applicationView),
  );

  app.patch(
    '/v1/app/:app_name',
    {
      schema: {
        tags,
        operationId: 'application-patch',
        params: AppNameParams,
        body: ApplicationPatch,
        response: { 200: Application, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const { name, is_active, is_telemetry_agent_active, image } = request.body;
      const result = await patchApp(deps, request.orgId, request.params.app_name, {
        name,
        isActive: is_active,
        isTelemetryAgentActive: is_telemetry_agent_active,
        image,
      });
      return sendResult(reply, result, applicationView);
    },
  );

  app.delete(
    '/v1/app/:app_name',
    {
      schema: {
        tags,
        operationId: 'application-delete',
        params: AppNameParams,
        response: { 200: AppDeleteResponse, ...errors(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await deleteApp(deps, request.orgId, request.params.app_name), (a) => ({
        message: `Application ${a.name} deleted`,
      })),
  );

  app.get(
    '/v1/apps',
    { schema: { tags, operationId: 'applications-get', response: { 200: Applications, ...errors() } } },
    async (request) => ({ applications: (await listApps(deps, request.orgId)).map(applicationView) }),
  );

  app.post(
    '/v1/app/:app_name/version',
    {
      schema: {
        tags,
        operationId: 'app-version-post',
        params: AppNameParams,
        body: AppVersionPayload,
        response: { 200: AppVersionWriteResponse, ...errors(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await createVersion(deps, request.orgId, request.params.app_name, request.body as VersionInput),
        (v) => ({ success: true, version: versionView(v) }),
      ),
  );

  app.get(
    '/v1/app/:app_name/version/:version_name',
    {
      schema: {
        tags,
        operationId: 'app-version-get',
        params: AppVersionParams,
        response: { 200: AppVersion, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await findVersion(deps, request.orgId, request.params.app_name, request.params.version_name),
        versionView,
      ),
  );

  app.patch(
    '/v1/app/:app_name/version/:version_name',
    {
      schema: {
        tags,
        operationId: 'app-versions-patch',
        params: AppVersionParams,
        body: AppVersionUpdatePayload,
        response: { 200: AppVersionWriteResponse, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const { app_name, version_name } = request.params;
      const result = await patchVersion(deps, request.orgId, app_name, version_name, request.body as VersionInput);
      return sendResult(reply, result, (v) => ({ success: true, version: versionView(v) }));
    },
  );

  app.delete(
    '/v1/app/:app_name/version/:version_name',
    {
      schema: {
        tags,
        operationId: 'app-version-delete',
        params: AppVersionParams,
        response: { 200: AppVersionDelete, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const { app_name, version_name } = request.params;
      return sendResult(reply, await deleteVersion(deps, request.orgId, app_name, version_name), (v) => ({
        success: true,
        message: `Version ${v.name} of ${app_name} deleted`,
      }));
    },
  );

  app.get(
    '/v1/app/:app_name/versions',
    {
      schema: {
        tags,
        operationId: 'app-versions-get',
        params: AppNameParams,
        response: { 200: AppVersionList, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await listVersions(deps, request.orgId, request.params.app_name), (vs) => ({
        versions: vs.map(versionView),
        total_count: vs.length,
      })),
  );
}
