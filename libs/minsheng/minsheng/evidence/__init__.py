"""佐证材料: evidence files attached to report revisions and task status reports, kept in the campaign's own
bucket of an S3-compatible object store (`storage`), checked and cleaned on upload (`content`), attached when
the report is saved and cleared when never attached (`service`)."""
