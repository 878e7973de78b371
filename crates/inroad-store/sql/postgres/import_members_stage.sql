-- List memberships of an import, staged: the same lead may be added to a list twice,
-- or be on it already, which a COPY into list_members would refuse.
CREATE TEMPORARY TABLE import_members (list_id bigint NOT NULL, lead_id bigint NOT NULL) ON COMMIT DROP
