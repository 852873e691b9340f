import { deleteAppIfNoLiveDeployment, insertApp, selectApp, selectApps, updateApp } from '../db/queries/apps.js';
import { pgErrorCode, PgCode } from '../db/db.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { AppRecord } from '../domain/records.js';
import { LIVE_DEPLOYMENT_STATUSES } from '../domain/session-rules.js';
import type { AppDeps } from './deps.js';

type Deps = Pick<AppDeps, 'db' | 'clock'>;

export async function createApp(
  deps: Deps,
  orgId: number,
  input: { name: string; isActive: boolean; isTelemetryAgentActive?: boolean | undefined; image: string },
): Promise<Result<AppRecord>> {
  const app = await insertApp(deps.db, {
    orgId,
    name: input.name,
    isActive: input.isActive,
    isTelemetryAgentActive: input.isTelemetryAgentActive ?? false,
    image: input.image,
    now: deps.clock.now(),
  });
  return app ? ok(app) : fail('APP_EXISTS', `An application named "${input.name}" already exists.`);
}

export async function findApp(deps: Deps, orgId: number, name: string): Promise<Result<AppRecord>> {
  const app = await selectApp(deps.db, orgId, name);
  return app ? ok(app) : fail('APP_NOT_FOUND', `Application "${name}" does not exist.`);
}

export function listApps(deps: Deps, orgId: number): Promise<AppRecord[]> {
  return selectApps(deps.db, orgId);
}

export async function patchApp(
  deps: Deps,
  orgId: number,
  name: string,
  patch: {
    name?: string | undefined;
    isActive?: boolean | undefined;
    isTelemetryAgentActive?: boolean | undefined;
    image?: string | undefined;
  },
): Promise<Result<AppRecord>> {
  const found = await findApp(deps, orgId, name);
  if (!found.ok) return found;
  try {
    const updated = await updateApp(deps.db, found.value.id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.isActive !== undefined ? { isActive: patch.isActive } : {}),
      ...(patch.isTelemetryAgentActive !== undefined ? { isTelemetryAgentActive: patch.isTelemetryAgentActive } : {}),
      ...(patch.image !== undefined ? { image: patch.image } : {}),
      now: deps.clock.now(),
    });
    return updated ? ok(updated) : fail('APP_NOT_FOUND', `Application "${name}" does not exist.`);
  } catch (error) {
    if (pgErrorCode(error) === PgCode.uniqueViolation)
      return fail('APP_EXISTS', `An application named "${patch.name}" already exists.`);
    throw error;
  }
}

export async function deleteApp(deps: Deps, orgId: number, name: string): Promise<Result<AppRecord>> {
  return deps.db.transaction(async (tx) => {
    const app = await selectApp(tx, orgId, name);
    if (!app) return fail('APP_NOT_FOUND', `Application "${name}" does not exist.`);
    const deleted = await deleteAppIfNoLiveDeployment(tx, app.id, LIVE_DEPLOYMENT_STATUSES);
    return deleted ? ok(app) : fail('APP_IN_USE', `Application "${name}" still has live deployments; stop them first.`);
  });
}
