/**
 * Request and response types, derived from the TypeBox contract the server validates with, so
 * they cannot drift. Only types are imported: the emitted JavaScript has no server code in it.
 */
import type { Static } from '@sinclair/typebox';
import type * as Apps from '../contract/apps.js';
import type * as Common from '../contract/common.js';
import type * as Deployments from '../contract/deployments.js';
import type * as Sessions from '../contract/sessions.js';
import type * as Keys from '../contract/keys.js';
import type * as Hosts from '../contract/hosts.js';
import type * as Webhooks from '../contract/webhooks.js';

export type Pagination = Static<typeof Common.Pagination>;
export type PageQuery = Static<typeof Common.PageQuery>;
export type ErrorBody = Static<typeof Common.ErrorBody>;

export type SessionModel = Static<typeof Sessions.SessionModel>;
export type SessionRequest = Static<typeof Sessions.SessionRequest>;
export type SessionGet = Static<typeof Sessions.SessionGet>;
export type SessionContext = Static<typeof Sessions.SessionContext>;
export type SessionDelete = Static<typeof Sessions.SessionDelete>;
export type SessionUserContext = Static<typeof Sessions.SessionUserContext>;
export type PatchSessionModel = Static<typeof Sessions.PatchSessionModel>;
export type SessionList = Static<typeof Sessions.Sessions>;
export type SessionBulkStopPayload = Static<typeof Sessions.SessionBulkStopPayload>;
export type SessionBulkStopResponse = Static<typeof Sessions.SessionBulkStopResponse>;
export type SessionDeployment = Static<typeof Sessions.Deployment>;

export type ApplicationPost = Static<typeof Apps.ApplicationPost>;
export type ApplicationPatch = Static<typeof Apps.ApplicationPatch>;
export type Application = Static<typeof Apps.Application>;
export type ApplicationList = Static<typeof Apps.Applications>;
export type AppDeleteResponse = Static<typeof Apps.AppDeleteResponse>;
export type AppVersionPayload = Static<typeof Apps.AppVersionPayload>;
export type AppVersionUpdatePayload = Static<typeof Apps.AppVersionUpdatePayload>;
export type AppVersion = Static<typeof Apps.AppVersion>;
export type AppVersionWriteResponse = Static<typeof Apps.AppVersionWriteResponse>;
export type AppVersionDelete = Static<typeof Apps.AppVersionDelete>;
export type AppVersionList = Static<typeof Apps.AppVersionList>;

export type DeployModel = Static<typeof Deployments.DeployModel>;
export type DeploymentRequest = Static<typeof Deployments.Request>;
export type DeploymentStatus = Static<typeof Deployments.Status>;
export type DeploymentDeleteResponse = Static<typeof Deployments.DeleteResponse>;
export type DeploymentDeleteRequestReceived = Static<typeof Deployments.DeleteRequestReceived>;
export type DeploymentList = Static<typeof Deployments.Deployments>;
export type DeploymentListItem = Static<typeof Deployments.DeploymentListData>;
export type DeploymentBulkStopPayload = Static<typeof Deployments.DeploymentBulkStopPayload>;
export type DeploymentBulkStopResponse = Static<typeof Deployments.DeploymentBulkStopResponse>;
export type DeploymentUpdatePayload = Static<typeof Deployments.DeploymentUpdatePayload>;
export type DeploymentUpdateResponse = Static<typeof Deployments.DeploymentUpdateResponse>;
export type RegisterServerPayload = Static<typeof Deployments.RegisterServerPayload>;

export type ApiKey = Static<typeof Keys.ApiKey>;
export type CreatedApiKey = Static<typeof Keys.CreatedApiKey>;
export type ApiKeyList = Static<typeof Keys.ApiKeyList>;

export type WebhookSecret = Static<typeof Webhooks.WebhookSecret>;
export type WebhookDelivery = Static<typeof Webhooks.WebhookDelivery>;
export type WebhookDeliveryList = Static<typeof Webhooks.WebhookDeliveryList>;

export type HostCreate = Static<typeof Hosts.HostCreate>;
export type Host = Static<typeof Hosts.Host>;
export type HostList = Static<typeof Hosts.HostList>;
export type HostRemoved = Static<typeof Hosts.HostRemoved>;
