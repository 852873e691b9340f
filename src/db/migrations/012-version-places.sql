-- The places of each version, one row per distinct place where live, joinable deployments of
-- the version run, so a session create reads a version's places from this small table instead
-- of walking the placement index once per place (docs/wire-contract.md#placement-order).
-- A place is what the placement index of migration 004 groups by: readiness, coordinates (NaN
-- when unknown) and names. The create walks the places nearest first and stops at the first
-- where a deployment has room (src/db/queries/placement.ts); which deployment has room is still
-- read from the deployments themselves, so seat changes never touch this table.
CREATE TABLE version_places (
  version_id bigint NOT NULL,
  ready boolean NOT NULL,
  lat double precision NOT NULL,
  lon double precision NOT NULL,
  city text NOT NULL,
  country text NOT NULL,
  continent text NOT NULL,
  administrative_division text NOT NULL,
  region text NOT NULL,
  -- Live, joinable deployments of the version at this place; the row goes when it reaches 0.
  deployments integer NOT NULL CHECK (deployments >= 0),
  -- The place as a unit vector (NaN when its coordinates are unknown): the nearer a place, the
  -- larger its dot product with the players' vector, so the create orders places by three
  -- products instead of a great-circle distance each. Coordinates under 1e-100 degrees read as
  -- 0, as in the create's distance, so no product underflows.
  x double precision GENERATED ALWAYS AS (
    cos(radians(CASE WHEN abs(lat) < 1e-100 THEN 0 ELSE lat END)) * cos(radians(CASE WHEN abs(lon) < 1e-100 THEN 0 ELSE lon END))) STORED,
  y double precision GENERATED ALWAYS AS (
    cos(radians(CASE WHEN abs(lat) < 1e-100 THEN 0 ELSE lat END)) * sin(radians(CASE WHEN abs(lon) < 1e-100 THEN 0 ELSE lon END))) STORED,
  z double precision GENERATED ALWAYS AS (sin(radians(CASE WHEN abs(lat) < 1e-100 THEN 0 ELSE lat END))) STORED,
  PRIMARY KEY (version_id, ready, lat, lon, city, country, continent, administrative_division, region)
);

-- Keeps version_places in step with deployments: a deployment counts at its place while it is
-- joinable and READY, DEPLOYING or INITIALIZING (the placement index's predicate). It fires only
-- when one of those columns is written, never on a seat change. Two transactions moving
-- deployments between the same two places in opposite directions can deadlock on the place
-- rows; the pg adapter runs such a transaction again (src/db/pg-adapter.ts).
CREATE FUNCTION version_places_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.is_joinable AND OLD.status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING') THEN
    -- The UPDATE locks the row (a concurrent count waits for this transaction), so the DELETE
    -- sees the count this transaction left.
    UPDATE version_places SET deployments = deployments - 1
    WHERE (version_id, ready, lat, lon, city, country, continent, administrative_division, region) =
      (OLD.version_id, OLD.status = 'Status.READY', coalesce(OLD.latitude, 'NaN'), coalesce(OLD.longitude, 'NaN'), OLD.city, OLD.country,
       OLD.continent, OLD.administrative_division, OLD.region);
    DELETE FROM version_places
    WHERE (version_id, ready, lat, lon, city, country, continent, administrative_division, region) =
      (OLD.version_id, OLD.status = 'Status.READY', coalesce(OLD.latitude, 'NaN'), coalesce(OLD.longitude, 'NaN'), OLD.city, OLD.country,
       OLD.continent, OLD.administrative_division, OLD.region)
      AND deployments = 0;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.is_joinable AND NEW.status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING') THEN
    INSERT INTO version_places (version_id, ready, lat, lon, city, country, continent, administrative_division, region, deployments)
    VALUES (NEW.version_id, NEW.status = 'Status.READY', coalesce(NEW.latitude, 'NaN'), coalesce(NEW.longitude, 'NaN'), NEW.city, NEW.country,
      NEW.continent, NEW.administrative_division, NEW.region, 1)
    ON CONFLICT (version_id, ready, lat, lon, city, country, continent, administrative_division, region)
      DO UPDATE SET deployments = version_places.deployments + 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER version_places_follow AFTER INSERT OR DELETE ON deployments FOR EACH ROW EXECUTE FUNCTION version_places_follow();
CREATE TRIGGER version_places_follow_update
  AFTER UPDATE OF version_id, status, is_joinable, latitude, longitude, city, country, continent, administrative_division, region ON deployments
  FOR EACH ROW
  WHEN ((OLD.version_id, OLD.status, OLD.is_joinable, OLD.latitude, OLD.longitude, OLD.city, OLD.country, OLD.continent, OLD.administrative_division, OLD.region)
    IS DISTINCT FROM (NEW.version_id, NEW.status, NEW.is_joinable, NEW.latitude, NEW.longitude, NEW.city, NEW.country, NEW.continent, NEW.administrative_division, NEW.region))
  EXECUTE FUNCTION version_places_follow();

INSERT INTO version_places (version_id, ready, lat, lon, city, country, continent, administrative_division, region, deployments)
SELECT version_id, status = 'Status.READY', coalesce(latitude, 'NaN'), coalesce(longitude, 'NaN'), city, country, continent, administrative_division, region, count(*)
FROM deployments
WHERE is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
