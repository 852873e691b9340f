-- Placement without scanning every deployment of a version (docs/wire-contract.md#placement-order, issue #3: 10,000
-- live deployments must cost at most twice 10). reserveSeatsOnBestDeployment walks the few
-- distinct places of a version with a loose index scan over this index, checks the location
-- constraints once per place, and seeks the fullest deployment with room at each place.
-- A place is readiness, coordinates and names; unknown coordinates are NULL in the table and NaN
-- here, because NaN equals itself and so groups like any other place (ranked after known ones).
-- The query repeats this predicate and these expressions word for word, or the planner ignores it.
CREATE INDEX deployments_placement_by_place ON deployments (
  version_id, (status = 'Status.READY'), (coalesce(latitude, 'NaN'::float8)), (coalesce(longitude, 'NaN'::float8)),
  city, country, continent, administrative_division, region, (sockets - sockets_usage), id
) WHERE is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING');

-- Superseded by the index above; every seat change had to maintain it.
DROP INDEX IF EXISTS deployments_placement;
