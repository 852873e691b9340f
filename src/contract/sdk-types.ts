/**
 * Renders the request and response types of the wire contract as plain TypeScript for the SDK
 * package (packages/sdk/src/types.ts). The SDK ships with no dependencies and imports nothing from
 * the server, so it cannot use `Static<typeof Schema>` itself: the types are generated from the
 * same TypeBox schemas the server validates with (`npm run sdk:types`), and
 * test/sdk/contract-types.test.ts fails when the committed file and the contract differ.
 */
import type { TSchema } from '@sinclair/typebox';
import * as Apps from './apps.js';
import * as Common from './common.js';
import * as Deployments from './deployments.js';
import * as Hosts from './hosts.js';
import * as Keys from './keys.js';
import * as Sessions from './sessions.js';
import * as Webhooks from './webhooks.js';

/** The SDK's type names, in the order they are written, with the schema each is rendered from. */
export const sdkTypes: ReadonlyArray<readonly [name: string, schema: TSchema]> = [
  ['Pagination', Common.Pagination],
  ['PageQuery', Common.PageQuery],
  ['ErrorBody', Common.ErrorBody],

  ['SessionModel', Sessions.SessionModel],
  ['SessionRequest', Sessions.SessionRequest],
  ['SessionGet', Sessions.SessionGet],
  ['SessionContext', Sessions.SessionContext],
  ['SessionDelete', Sessions.SessionDelete],
  ['SessionUserContext', Sessions.SessionUserContext],
  ['PatchSessionModel', Sessions.PatchSessionModel],
  ['SessionList', Sessions.Sessions],
  ['SessionBulkStopPayload', Sessions.SessionBulkStopPayload],
  ['SessionBulkStopResponse', Sessions.SessionBulkStopResponse],
  ['SessionDeployment', Sessions.Deployment],

  ['ApplicationPost', Apps.ApplicationPost],
  ['ApplicationPatch', Apps.ApplicationPatch],
  ['Application', Apps.Application],
  ['ApplicationList', Apps.Applications],
  ['AppDeleteResponse', Apps.AppDeleteResponse],
  ['AppVersionPayload', Apps.AppVersionPayload],
  ['AppVersionUpdatePayload', Apps.AppVersionUpdatePayload],
  ['AppVersion', Apps.AppVersion],
  ['AppVersionWriteResponse', Apps.AppVersionWriteResponse],
  ['AppVersionDelete', Apps.AppVersionDelete],
  ['AppVersionList', Apps.AppVersionList],

  ['DeployModel', Deployments.DeployModel],
  ['DeploymentRequest', Deployments.Request],
  ['DeploymentStatus', Deployments.Status],
  ['DeploymentDeleteResponse', Deployments.DeleteResponse],
  ['DeploymentDeleteRequestReceived', Deployments.DeleteRequestReceived],
  ['DeploymentList', Deployments.Deployments],
  ['DeploymentListItem', Deployments.DeploymentListData],
  ['DeploymentBulkStopPayload', Deployments.DeploymentBulkStopPayload],
  ['DeploymentBulkStopResponse', Deployments.DeploymentBulkStopResponse],
  ['DeploymentUpdatePayload', Deployments.DeploymentUpdatePayload],
  ['DeploymentUpdateResponse', Deployments.DeploymentUpdateResponse],
  ['RegisterServerPayload', Deployments.RegisterServerPayload],

  ['ApiKey', Keys.ApiKey],
  ['CreatedApiKey', Keys.CreatedApiKey],
  ['ApiKeyList', Keys.ApiKeyList],

  ['WebhookSecret', Webhooks.WebhookSecret],
  ['WebhookDelivery', Webhooks.WebhookDelivery],
  ['WebhookDeliveryList', Webhooks.WebhookDeliveryList],

  ['HostCreate', Hosts.HostCreate],
  ['Host', Hosts.Host],
  ['HostList', Hosts.HostList],
  ['HostRemoved', Hosts.HostRemoved],
];

interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  patternProperties?: Record<string, JsonSchema>;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A nested schema that is one of the named ones is written as that name. */
const names = new Map<unknown, string>(sdkTypes.map(([name, schema]) => [schema, name]));

/** One schema as a TypeScript type; objects span lines, indented by `indent`. */
function render(schema: JsonSchema, indent: string): string {
  const name = indent === '' ? undefined : names.get(schema);
  if (name !== undefined) return name;
  if (schema.anyOf) return schema.anyOf.map((member) => wrapUnion(member, indent)).join(' | ');
  if (schema.const !== undefined)
    return typeof schema.const === 'string'
      ? `'${schema.const.replace(/['\\]/g, '\\$&')}'`
      : JSON.stringify(schema.const);
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return schema.items ? `${wrapUnion(schema.items, indent)}[]` : 'unknown[]';
    case 'object':
      return renderObject(schema, indent);
    case undefined:
      return 'unknown';
    default:
      throw new Error(`sdk-types: no TypeScript rendering for JSON Schema type ${schema.type}`);
  }
}

function wrapUnion(schema: JsonSchema, indent: string): string {
  const text = render(schema, indent);
  return schema.anyOf && schema.anyOf.length > 1 ? `(${text})` : text;
}

/** A property's type after its colon; a union holding objects is written one member a line, as Prettier does. */
function renderProperty(schema: JsonSchema, indent: string): string {
  const members = names.has(schema) ? undefined : schema.anyOf;
  if (!members?.some((member) => render(member, indent).includes('\n'))) return ` ${render(schema, indent)}`;
  return members.map((member) => `\n${indent}  | ${render(member, `${indent}    `)}`).join('');
}

function renderObject(schema: JsonSchema, indent: string): string {
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const optional = schema.required?.includes(key) ? '' : '?';
    lines.push(`${inner}${IDENTIFIER.test(key) ? key : `'${key}'`}${optional}:${renderProperty(property, inner)};`);
  }
  // TypeBox's Record: `patternProperties` holds the value schema under the key pattern.
  for (const value of Object.values(schema.patternProperties ?? {}))
    lines.push(`${inner}[key: string]: ${render(value, inner)};`);
  if (lines.length === 0) return '{}';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** The whole of packages/sdk/src/types.ts. */
export function renderSdkTypes(): string {
  const header = [
    "// Generated from the server's TypeBox contract (src/contract/) by `npm run sdk:types`: do not edit.",
    '// test/sdk/contract-types.test.ts fails when this file and the contract differ.',
    '// Request and response bodies of the Rallypoint API, exactly as the server validates them.',
    '',
  ];
  const body = sdkTypes.map(([name, schema]) => `export type ${name} = ${render(schema as JsonSchema, '')};\n`);
  return `${header.join('\n')}${body.join('\n')}`;
}
