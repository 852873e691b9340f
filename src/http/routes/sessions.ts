import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.js';
import { bulkStopSessions, createSession, deleteSession, getSession, listSessions } from '../../app/sessions.js';
import { addSessionUsers, getSessionUsers, removeSessionUsers } from '../../app/session-users.js';
import { PageQuery, paginationOf } from '../../contract/common.js';
import {
  PatchSessionModel,
  SessionBulkStopPayload,
  SessionBulkStopResponse,
  SessionDelete,
  SessionGet,
  SessionIdParams,
  SessionModel,
  SessionRequest,
  Sessions,
  SessionUserContext,
} from '../../contract/sessions.js';
import { sessionContextView, sessionGetView, sessionRequestView } from '../../contract/views.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['Sessions'];

export function registerSessionRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const userView = (users: Array<{ ip: string; latitude?: number; longitude?: number }>) => ({ session_users: users });

  app.post(
    '/v1/session',
    {
      schema: {
        tags,
        operationId: 'session-post',
        summary: 'Create a Session',
        body: SessionModel,
        response: { 200: SessionRequest, ...errors(409, 422) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await createSession(deps, request.orgId, request.body), ({ session, deployment }) =>
        sessionRequestView(session, deployment),
      ),
  );

  app.get(
    '/v1/session/:session_id',
    {
      schema: {
        tags,
        operationId: 'get-session',
        summary: 'Get a Session',
        params: SessionIdParams,
        response: { 200: SessionGet, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await getSession(deps, request.orgId, request.params.session_id), ({ session, deployment }) =>
        sessionGetView(session, deployment, deps.clock.now()),
      ),
  );

  app.delete(
    '/v1/session/:session_id',
    {
      schema: {
        tags,
        operationId: 'session-delete',
        summary: 'Delete a Session',
        params: SessionIdParams,
        response: { 200: SessionDelete, ...errors(404, 410) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await deleteSession(deps, request.orgId, request.params.session_id), (session) => ({
        message: `Session ${session.sessionId} will be deleted`,
        session_id: session.sessionId,
        ...(session.customId ? { custom_id: session.customId } : {}),
      })),
  );

  app.get(
    '/v1/session/:session_id/users',
    {
      schema: {
        tags,
        operationId: 'get-users-session',
        summary: 'List Users of a Session',
        params: SessionIdParams,
        response: { 200: SessionUserContext, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await getSessionUsers(deps, request.orgId, request.params.session_id), userView),
  );

  app.put(
    '/v1/session/:session_id/users',
    {
      schema: {
        tags,
        operationId: 'put-users-session',
        summary: 'Put Users in a Session',
        params: SessionIdParams,
        body: PatchSessionModel,
        response: { 200: SessionUserContext, ...errors(404, 422) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await addSessionUsers(deps, request.orgId, request.params.session_id, request.body.ip_list),
        userView,
      ),
  );

  app.delete(
    '/v1/session/:session_id/users',
    {
      schema: {
        tags,
        operationId: 'delete-users-session',
        summary: 'Delete Users From a Session',
        params: SessionIdParams,
        body: PatchSessionModel,
        response: { 200: SessionUserContext, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await removeSessionUsers(deps, request.orgId, request.params.session_id, request.body.ip_list),
        userView,
      ),
  );

  app.get(
    '/v1/sessions',
    {
      schema: {
        tags,
        operationId: 'list-sessions',
        summary: 'List All Sessions',
        querystring: PageQuery,
        response: { 200: Sessions, ...errors() },
      },
    },
    async (request) => {
      const page = request.query.page ?? 1;
      const limit = request.query.limit ?? 100;
      const { sessions, total } = await listSessions(deps, request.orgId, page, limit);
      return {
        data: sessions.map((s) => sessionContextView(s, s.deploymentRequestId)),
        total_count: total,
        pagination: paginationOf(page, limit, total),
      };
    },
  );

  app.post(
    '/v1/sessions/bulk-stop',
    {
      schema: {
        tags,
        operationId: 'sessions-bulk-stop',
        summary: 'Delete Sessions in Bulk',
        body: SessionBulkStopPayload,
        response: { 200: SessionBulkStopResponse, ...errors() },
      },
    },
    async (request, reply) =>
      sendResult(reply, await bulkStopSessions(deps, request.orgId, request.body.filters), (ids) => ({
        processable: ids.map((session_id) => ({ session_id })),
      })),
  );
}
