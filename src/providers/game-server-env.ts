/**
 * What a game server Rallypoint starts is told, whatever runs it (a local process, a container):
 * the environment an Edgegap game server reads, and the per-deployment credentials behind its
 * context and self-stop URLs. Shared by every provider that starts game servers, so a server
 * written for Edgegap sees the same names and formats everywhere.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { DeploymentRecord, PlaceRecord, PortRecord } from '../domain/records.js';

/**
 * The secrets a deployment's game server holds. Only their hashes are stored (provider_data),
 * so a database reader cannot impersonate a game server.
 */
export interface GameServerAccess {
  /** Path part of the context URL; Edgegap sends a number here. */
  securityNumber: number;
  contextToken: string;
  /** Path part of the self-stop URL; Edgegap sends a number here. */
  accessPointId: number;
  deleteToken: string;
}

/** Fresh credentials, and what to store about them. */
export function issueGameServerAccess(): { access: GameServerAccess; stored: Record<string, unknown> } {
  const access: GameServerAccess = {
    securityNumber: randomInt(100_000, 2_147_483_647),
    contextToken: randomBytes(32).toString('hex'),
    accessPointId: randomInt(100_000, 2_147_483_647),
    deleteToken: randomBytes(32).toString('hex'),
  };
  return { access, stored: storedAccess(access) };
}

/**
 * What provider_data keeps about a game server's credentials. A provider puts it in what start()
 * returns, so the hashes stored last are those of the game server that actually runs, even when
 * a start retried after a lost lease adopts the one an earlier attempt started.
 */
export function storedAccess(access: GameServerAccess): Record<string, unknown> {
  return {
    securityNumber: access.securityNumber,
    contextTokenHash: hashGameServerToken(access.contextToken),
    accessPointId: access.accessPointId,
    deleteTokenHash: hashGameServerToken(access.deleteToken),
  };
}

/** The credentials a game server was started with, read back from its environment (undefined if any is missing). */
export function accessFromEnv(env: Record<string, string>): GameServerAccess | undefined {
  const lastNumber = (url: string | undefined) => Number(/\/(\d+)$/.exec(url ?? '')?.[1] ?? Number.NaN);
  const securityNumber = lastNumber(env['ARBITRIUM_CONTEXT_URL']);
  const accessPointId = lastNumber(env['ARBITRIUM_DELETE_URL']);
  const contextToken = env['ARBITRIUM_CONTEXT_TOKEN'];
  const deleteToken = env['ARBITRIUM_DELETE_TOKEN'];
  if (!Number.isSafeInteger(securityNumber) || !Number.isSafeInteger(accessPointId) || !contextToken || !deleteToken)
    return undefined;
  return { securityNumber, contextToken, accessPointId, deleteToken };
}

/** The SHA-256 of a token as stored in provider_data (tokens carry 256 random bits). */
export function hashGameServerToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether `token` matches the stored hash, in constant time. */
export function tokenMatches(token: string | undefined, storedHash: unknown): boolean {
  if (token === undefined || typeof storedHash !== 'string') return false;
  const given = Buffer.from(hashGameServerToken(token));
  const expected = Buffer.from(storedHash);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A name that can be put in an environment: not empty, no '=' and no NUL. */
export function isEnvName(key: string): boolean {
  return key !== '' && !key.includes('=') && !key.includes('\0');
}

/** Names Rallypoint sets itself; nothing the user gives can set or shadow one. */
export function isReservedEnvName(key: string): boolean {
  return key.toUpperCase().startsWith('ARBITRIUM_');
}

/**
 * ARBITRIUM_PORTS_MAPPING as Edgegap sends it:
 * `{"ports": {"<name>": {"name", "internal", "external", "protocol", "link"}}}`.
 */
export function portsMapping(ports: Record<string, PortRecord>): string {
  return JSON.stringify({
    ports: Object.fromEntries(
      Object.entries(ports).map(([key, p]) => [
        key,
        {
          name: p.name,
          internal: p.internal,
          external: p.external,
          protocol: p.protocol,
          link: p.link,
        },
      ]),
    ),
  });
}

/** ARBITRIUM_DEPLOYMENT_LOCATION: the deployment's place with Edgegap's field names. */
export function deploymentLocation(place: PlaceRecord): string {
  return JSON.stringify({
    city: place.city,
    country: place.country,
    continent: place.continent,
    administrative_division: place.administrativeDivision,
    timezone: place.timezone,
    latitude: place.latitude,
    longitude: place.longitude,
  });
}

export interface GameServerEnvInput {
  deployment: Pick<DeploymentRecord, 'requestId' | 'place' | 'tags'>;
  publicIp: string;
  ports: Record<string, PortRecord>;
  access: GameServerAccess;
  /** Base URL the game server reaches Rallypoint at (the context and self-stop routes). */
  callbackUrl: string;
  /** The version's `req_cpu` (1024 = one vCPU) and `req_memory` (MB), when it has them. */
  vcpuUnits?: number;
  memoryMb?: number;
  /** The version's envs, then the deploy's env_vars (selector env, POST /v1/deploy env_vars): later wins. */
  userEnv: ReadonlyArray<{ key: string; value: string }>;
}

/**
 * The game server's environment as name → value. User variables come first and the ARBITRIUM_*
 * ones last, so no user value can override them; user names that are reserved or that an
 * environment cannot hold are dropped.
 */
export function gameServerEnv(input: GameServerEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { key, value } of input.userEnv) {
    if (isEnvName(key) && !isReservedEnvName(key) && !String(value).includes('\0')) env[key] = String(value);
  }
  const base = input.callbackUrl.replace(/\/+$/, '');
  const { requestId } = input.deployment;
  Object.assign(env, {
    ARBITRIUM_REQUEST_ID: requestId,
    ARBITRIUM_PUBLIC_IP: input.publicIp,
    ARBITRIUM_PORTS_MAPPING: portsMapping(input.ports),
    ARBITRIUM_DEPLOYMENT_LOCATION: deploymentLocation(input.deployment.place),
    ARBITRIUM_DEPLOYMENT_TAGS: input.deployment.tags.join(','),
    ARBITRIUM_CONTEXT_URL: `${base}/v1/context/${requestId}/${input.access.securityNumber}`,
    ARBITRIUM_CONTEXT_TOKEN: input.access.contextToken,
    ARBITRIUM_DELETE_URL: `${base}/v1/self/stop/${requestId}/${input.access.accessPointId}`,
    ARBITRIUM_DELETE_TOKEN: input.access.deleteToken,
    ...(input.vcpuUnits !== undefined ? { ARBITRIUM_DEPLOYMENT_VCPU_UNITS: String(input.vcpuUnits) } : {}),
    ...(input.memoryMb !== undefined ? { ARBITRIUM_DEPLOYMENT_MEMORY_MB: String(input.memoryMb) } : {}),
  });
  return env;
}

/** The version's `envs` as stored in its spec. */
export function versionEnvs(spec: Record<string, unknown>): Array<{ key: string; value: string }> {
  const envs = spec['envs'];
  if (!Array.isArray(envs)) return [];
  return envs.flatMap((e) =>
    e && typeof e === 'object' && typeof e.key === 'string'
      ? [{ key: e.key as string, value: String(e.value ?? '') }]
      : [],
  );
}

/** A positive number from the version's spec (req_cpu, req_memory), else undefined. */
export function specNumber(spec: Record<string, unknown>, key: string): number | undefined {
  const value = spec[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
