/**
 * The SDK's types (packages/sdk/src/types.ts) are generated from the server's contract: the
 * committed file must be what the contract renders today (else run `npm run sdk:types`), and each
 * type must accept exactly the values its schema's Static type accepts (checked when this file
 * compiles: a mismatch fails `npm run build`).
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Static } from '@sinclair/typebox';
import type * as Sdk from '@rallypoint/sdk';
import { renderSdkTypes, sdkTypes } from '../../src/contract/sdk-types.js';
import type * as Apps from '../../src/contract/apps.js';
import type * as Common from '../../src/contract/common.js';
import type * as Deployments from '../../src/contract/deployments.js';
import type * as Hosts from '../../src/contract/hosts.js';
import type * as Keys from '../../src/contract/keys.js';
import type * as Sessions from '../../src/contract/sessions.js';
import type * as Webhooks from '../../src/contract/webhooks.js';

/** True when each of A and B is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<A, B>(_proof: Same<A, B>): void {}

same<Sdk.Pagination, Static<typeof Common.Pagination>>(true);
same<Sdk.PageQuery, Static<typeof Common.PageQuery>>(true);
same<Sdk.ErrorBody, Static<typeof Common.ErrorBody>>(true);
same<Sdk.SessionModel, Static<typeof Sessions.SessionModel>>(true);
same<Sdk.SessionRequest, Static<typeof Sessions.SessionRequest>>(true);
same<Sdk.SessionGet, Static<typeof Sessions.SessionGet>>(true);
same<Sdk.SessionContext, Static<typeof Sessions.SessionContext>>(true);
same<Sdk.SessionDelete, Static<typeof Sessions.SessionDelete>>(true);
same<Sdk.SessionUserContext, Static<typeof Sessions.SessionUserContext>>(true);
same<Sdk.PatchSessionModel, Static<typeof Sessions.PatchSessionModel>>(true);
same<Sdk.SessionList, Static<typeof Sessions.Sessions>>(true);
same<Sdk.SessionBulkStopPayload, Static<typeof Sessions.SessionBulkStopPayload>>(true);
same<Sdk.SessionBulkStopResponse, Static<typeof Sessions.SessionBulkStopResponse>>(true);
same<Sdk.SessionDeployment, Static<typeof Sessions.Deployment>>(true);
same<Sdk.ApplicationPost, Static<typeof Apps.ApplicationPost>>(true);
same<Sdk.ApplicationPatch, Static<typeof Apps.ApplicationPatch>>(true);
same<Sdk.Application, Static<typeof Apps.Application>>(true);
same<Sdk.ApplicationList, Static<typeof Apps.Applications>>(true);
same<Sdk.AppDeleteResponse, Static<typeof Apps.AppDeleteResponse>>(true);
same<Sdk.AppVersionPayload, Static<typeof Apps.AppVersionPayload>>(true);
same<Sdk.AppVersionUpdatePayload, Static<typeof Apps.AppVersionUpdatePayload>>(true);
same<Sdk.AppVersion, Static<typeof Apps.AppVersion>>(true);
same<Sdk.AppVersionWriteResponse, Static<typeof Apps.AppVersionWriteResponse>>(true);
same<Sdk.AppVersionDelete, Static<typeof Apps.AppVersionDelete>>(true);
same<Sdk.AppVersionList, Static<typeof Apps.AppVersionList>>(true);
same<Sdk.DeployModel, Static<typeof Deployments.DeployModel>>(true);
same<Sdk.DeploymentRequest, Static<typeof Deployments.Request>>(true);
same<Sdk.DeploymentStatus, Static<typeof Deployments.Status>>(true);
same<Sdk.DeploymentDeleteResponse, Static<typeof Deployments.DeleteResponse>>(true);
same<Sdk.DeploymentDeleteRequestReceived, Static<typeof Deployments.DeleteRequestReceived>>(true);
same<Sdk.DeploymentList, Static<typeof Deployments.Deployments>>(true);
same<Sdk.DeploymentListItem, Static<typeof Deployments.DeploymentListData>>(true);
same<Sdk.DeploymentBulkStopPayload, Static<typeof Deployments.DeploymentBulkStopPayload>>(true);
same<Sdk.DeploymentBulkStopResponse, Static<typeof Deployments.DeploymentBulkStopResponse>>(true);
same<Sdk.DeploymentUpdatePayload, Static<typeof Deployments.DeploymentUpdatePayload>>(true);
same<Sdk.DeploymentUpdateResponse, Static<typeof Deployments.DeploymentUpdateResponse>>(true);
same<Sdk.RegisterServerPayload, Static<typeof Deployments.RegisterServerPayload>>(true);
same<Sdk.ApiKey, Static<typeof Keys.ApiKey>>(true);
same<Sdk.CreatedApiKey, Static<typeof Keys.CreatedApiKey>>(true);
same<Sdk.ApiKeyList, Static<typeof Keys.ApiKeyList>>(true);
same<Sdk.WebhookSecret, Static<typeof Webhooks.WebhookSecret>>(true);
same<Sdk.WebhookDelivery, Static<typeof Webhooks.WebhookDelivery>>(true);
same<Sdk.WebhookDeliveryList, Static<typeof Webhooks.WebhookDeliveryList>>(true);
same<Sdk.HostCreate, Static<typeof Hosts.HostCreate>>(true);
same<Sdk.Host, Static<typeof Hosts.Host>>(true);
same<Sdk.HostList, Static<typeof Hosts.HostList>>(true);
same<Sdk.HostRemoved, Static<typeof Hosts.HostRemoved>>(true);

describe('SDK types generated from the contract', () => {
  it('packages/sdk/src/types.ts is what the contract renders (npm run sdk:types)', () => {
    const committed = readFileSync(new URL('../../../packages/sdk/src/types.ts', import.meta.url), 'utf8');
    assert.ok(
      committed === renderSdkTypes(),
      'packages/sdk/src/types.ts differs from src/contract/: run `npm run sdk:types`',
    );
  });

  it('names 47 types, each exported by the SDK', () => {
    const declarations = readFileSync(new URL('../../../packages/sdk/dist/types.d.ts', import.meta.url), 'utf8');
    assert.equal(sdkTypes.length, 47);
    for (const [name] of sdkTypes) assert.match(declarations, new RegExp(`^export type ${name} = `, 'm'));
  });
});
