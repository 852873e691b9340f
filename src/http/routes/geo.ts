import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.js';
import { listLocations, lookupIp, lookupIps } from '../../app/geo.js';
import {
  IpAddressesLookupPayload,
  IpAddressesLookupResponse,
  IpAddressLookupResponse,
  IpParams,
  Locations,
  LocationsQuery,
  ipLookupView,
  locationView,
} from '../../contract/geo.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

export function registerGeoRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/ip/:ip/lookup',
    {
      schema: {
        tags: ['IP Lookup'],
        operationId: 'IP lookup',
        params: IpParams,
        response: { 200: IpAddressLookupResponse, ...errors() },
      },
    },
    async (request, reply) => sendResult(reply, lookupIp(deps, request.params.ip), ipLookupView),
  );

  app.post(
    '/v1/ips/lookup',
    {
      schema: {
        tags: ['IP Lookup'],
        operationId: 'IPs lookup',
        body: IpAddressesLookupPayload,
        response: { 200: IpAddressesLookupResponse, ...errors() },
      },
    },
    async (request, reply) =>
      sendResult(reply, lookupIps(deps, request.body.addresses), (lookups) => ({
        addresses: lookups.map(ipLookupView),
      })),
  );

  app.get(
    '/v1/locations',
    {
      schema: {
        tags: ['Locations'],
        operationId: 'locations-get',
        querystring: LocationsQuery,
        response: { 200: Locations, ...errors() },
      },
    },
    async (request, reply) => {
      const withTags = request.query.tags?.toLowerCase() === 'true';
      return sendResult(reply, await listLocations(deps, request.orgId, request.query), ({ locations, messages }) => ({
        locations: locations.map((l) => locationView(l, withTags)),
        messages,
      }));
    },
  );
}
