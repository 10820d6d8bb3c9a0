"""Progress reporting: reports with revisions, review (submit → approve | return → resubmit),
period locks, qualitative task status, and the change history."""
