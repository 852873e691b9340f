import { selectApp } from '../db/queries/apps.js';
import {
  deleteVersionIfNoLiveDeployment,
  insertVersion,
  selectVersion,
  selectVersions,
  updateVersion,
  type VersionWrite,
} from '../db/queries/versions.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { VersionRecord } from '../domain/records.js';
import { LIVE_DEPLOYMENT_STATUSES, type SessionKind } from '../domain/session-rules.js';
import type { AppDeps } from './deps.js';

type Deps = Pick<AppDeps, 'db' | 'clock'>;

export interface SessionConfigInput {
  kind?: SessionKind | undefined;
  sockets?: number | undefined;
  autodeploy?: boolean | undefined;
  empty_ttl?: number | undefined;
  session_max_duration?: number | undefined;
}

/** The version payload as the client sent it (wire names). */
export type VersionInput = Record<string, unknown> & {
  name?: string;
  is_active?: boolean;
  session_config?: SessionConfigInput;
};

const DEFAULT_SESSION_MAX_DURATION = 60;

/** Splits a payload into the columns placement reads and the spec providers read. */
function toWrite(input: VersionInput, base?: VersionRecord): Result<VersionWrite> {
  const { name, is_active: isActive, session_config: patchConfig, ...rest } = input;
  const previousConfig = (base?.spec['session_config'] as SessionConfigInput | undefined) ?? undefined;
  const config = patchConfig ? { ...(previousConfig ?? {}), ...patchConfig } : previousConfig;
  const spec: Record<string, unknown> = { ...(base?.spec ?? {}), ...rest };
  if (config) spec['session_config'] = config;
  const kind: SessionKind = config?.kind ?? 'Default';
  if (config && kind !== 'Default' && config.sockets === undefined) {
    return fail('VALIDATION_FAILED', 'session_config.sockets is required for Seat and Match versions.');
  }
  return ok({
    name: name ?? base?.name ?? '',
    isActive: isActive ?? base?.isActive ?? true,
    spec,
    sessionKind: kind,
    sockets: config?.sockets ?? null,
    autodeploy: config?.autodeploy ?? false,
    emptyTtlMinutes: config?.empty_ttl ?? null,
    sessionMaxDurationMinutes: config?.session_max_duration ?? DEFAULT_SESSION_MAX_DURATION,
  });
}

async function appIdOf(deps: Deps, orgId: number, appName: string): Promise<Result<number>> {
  const app = await selectApp(deps.db, orgId, appName);
  return app ? ok(app.id) : fail('APP_NOT_FOUND', `Application "${appName}" does not exist.`);
}

export async function createVersion(
  deps: Deps,
  orgId: number,
  appName: string,
  input: VersionInput,
): Promise<Result<VersionRecord>> {
  const appId = await appIdOf(deps, orgId, appName);
  if (!appId.ok) return appId;
  const write = toWrite(input);
  if (!write.ok) return write;
  const version = await insertVersion(deps.db, { ...write.value, orgId, appId: appId.value, now: deps.clock.now() });
  return version
    ? ok(version)
    : fail('VERSION_EXISTS', `Application "${appName}" already has a version named "${write.value.name}".`);
}

export async function findVersion(
  deps: Deps,
  orgId: number,
  appName: string,
  versionName: string,
): Promise<Result<VersionRecord>> {
  const appId = await appIdOf(deps, orgId, appName);
  if (!appId.ok) return appId;
  const version = await selectVersion(deps.db, appId.value, versionName);
  return version
    ? ok(version)
    : fail('VERSION_NOT_FOUND', `Application "${appName}" has no version named "${versionName}".`);
}

export async function listVersions(deps: Deps, orgId: number, appName: string): Promise<Result<VersionRecord[]>> {
  const appId = await appIdOf(deps, orgId, appName);
  if (!appId.ok) return appId;
  return ok(await selectVersions(deps.db, appId.value));
}

export async function patchVersion(
  deps: Deps,
  orgId: number,
  appName: string,
  versionName: string,
  input: VersionInput,
): Promise<Result<VersionRecord>> {
  const found = await findVersion(deps, orgId, appName, versionName);
  if (!found.ok) return found;
  const write = toWrite(input, found.value);
  if (!write.ok) return write;
  const updated = await updateVersion(deps.db, found.value.id, { ...write.value, now: deps.clock.now() });
  return updated
    ? ok(updated)
    : fail('VERSION_EXISTS', `Application "${appName}" already has a version named "${write.value.name}".`);
}

export async function deleteVersion(
  deps: Deps,
  orgId: number,
  appName: string,
  versionName: string,
): Promise<Result<VersionRecord>> {
  const found = await findVersion(deps, orgId, appName, versionName);
  if (!found.ok) return found;
  const deleted = await deps.db.transaction((tx) =>
    deleteVersionIfNoLiveDeployment(tx, found.value.id, LIVE_DEPLOYMENT_STATUSES),
  );
  return deleted
    ? ok(found.value)
    : fail('VERSION_IN_USE', `Version "${versionName}" still has live deployments; stop them first.`);
}
