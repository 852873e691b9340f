/**
 * Operators' organisation use cases (`rallypoint admin`, never reachable over the API): create,
 * list, rename and delete organisations, and give one a new key (which is also how an
 * organisation that lost or revoked every key gets back in).
 */
import { countOrganisations, insertApiKey, insertOrganisation } from '../db/queries/orgs.js';
import { releaseHostAllocation, selectOperatorOrgId } from '../db/queries/hosts.js';
import {
  countLiveDeploymentsOfOrganisation,
  deleteOrganisationRow,
  deleteOrganisationRowsElsewhere,
  deleteOrganisationRowsIn,
  lockOrganisationNames,
  ORGANISATION_OWNED_TABLES,
  selectHostHoldingDeploymentsOfOrganisation,
  selectOrganisationByName,
  selectOrganisationSummaries,
  selectOtherTablesReferencingOrganisations,
  updateOrganisationName,
  type OrgSummaryRow,
} from '../db/queries/org-admin.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { ApiKeyRecord, OrgRecord } from '../domain/records.js';
import { LIVE_DEPLOYMENT_STATUSES } from '../domain/session-rules.js';
import type { AppDeps } from './deps.js';
import { hashApiKey, newApiKey, newKeyId, newWebhookSecret } from './ids.js';

type Deps = Pick<AppDeps, 'db'>;

const notFound = (name: string) => fail<never>('ORG_NOT_FOUND', `No organisation is named "${name}".`);

function checkName(name: string): Result<string> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100)
    return fail('VALIDATION_FAILED', 'An organisation name is 1 to 100 characters.');
  return ok(trimmed);
}

/** A new organisation and its first key, shown once. Names are unique among organisations. */
export async function createNamedOrganisation(
  deps: Deps,
  name: string,
): Promise<Result<{ org: OrgRecord; key: string; record: ApiKeyRecord }>> {
  const checked = checkName(name);
  if (!checked.ok) return checked;
  return deps.db.transaction(async (tx) => {
    await lockOrganisationNames(tx);
    if (await selectOrganisationByName(tx, checked.value))
      return fail('ORG_EXISTS', `An organisation is already named "${checked.value}".`);
    const org = await insertOrganisation(tx, checked.value, newWebhookSecret());
    const key = newApiKey();
    const record = await insertApiKey(tx, {
      keyId: newKeyId(),
      orgId: org.id,
      keyHash: hashApiKey(key),
      name: 'first',
    });
    return ok({ org, key, record });
  });
}

export function listOrganisations(deps: Deps): Promise<OrgSummaryRow[]> {
  return selectOrganisationSummaries(deps.db, LIVE_DEPLOYMENT_STATUSES);
}

export async function renameOrganisation(deps: Deps, name: string, newName: string): Promise<Result<OrgRecord>> {
  const checked = checkName(newName);
  if (!checked.ok) return checked;
  return deps.db.transaction(async (tx) => {
    await lockOrganisationNames(tx);
    const org = await selectOrganisationByName(tx, name);
    if (!org) return notFound(name);
    const taken = await selectOrganisationByName(tx, checked.value);
    if (taken && taken.id !== org.id) return fail('ORG_EXISTS', `An organisation is already named "${checked.value}".`);
    await updateOrganisationName(tx, org.id, checked.value);
    return ok({ ...org, name: checked.value });
  });
}

/**
 * Deletes the organisation and everything it owns, in one transaction. Refused while it has live
 * deployments unless `force`: forcing deletes their records and frees their host capacity, but
 * stops no game server (stop them through the API first).
 */
export async function deleteOrganisation(
  deps: Deps,
  name: string,
  options: { force: boolean },
): Promise<Result<{ org: OrgRecord; liveDeployments: number }>> {
  return deps.db.transaction(async (tx) => {
    const org = await selectOrganisationByName(tx, name);
    if (!org) return notFound(name);
    // The oldest organisation manages the shared hosts: deleting it would hand that to the next one.
    if ((await selectOperatorOrgId(tx)) === org.id && (await countOrganisations(tx)) > 1) {
      return fail(
        'ORG_IN_USE',
        `Organisation "${name}" is the operator organisation (it manages the hosts); delete the others first.`,
      );
    }
    const live = await countLiveDeploymentsOfOrganisation(tx, org.id, LIVE_DEPLOYMENT_STATUSES);
    if (live > 0 && !options.force) {
      return fail(
        'ORG_IN_USE',
        `Organisation "${name}" has ${live} live deployment${live > 1 ? 's' : ''}: stop them first, or delete with --force.`,
      );
    }
    for (const deploymentId of await selectHostHoldingDeploymentsOfOrganisation(tx, org.id))
      await releaseHostAllocation(tx, deploymentId);
    for (const table of ORGANISATION_OWNED_TABLES) await deleteOrganisationRowsIn(tx, table, org.id);
    for (const target of await selectOtherTablesReferencingOrganisations(tx))
      await deleteOrganisationRowsElsewhere(tx, target, org.id);
    await deleteOrganisationRow(tx, org.id);
    return ok({ org, liveDeployments: live });
  });
}

/** A new key for the named organisation (also the way back in for one locked out). */
export async function createKeyForOrganisation(
  deps: Deps,
  name: string,
  keyName: string,
): Promise<Result<{ org: OrgRecord; key: string; record: ApiKeyRecord }>> {
  const org = await selectOrganisationByName(deps.db, name);
  if (!org) return notFound(name);
  const key = newApiKey();
  const record = await insertApiKey(deps.db, {
    keyId: newKeyId(),
    orgId: org.id,
    keyHash: hashApiKey(key),
    name: keyName,
  });
  return ok({ org, key, record });
}
