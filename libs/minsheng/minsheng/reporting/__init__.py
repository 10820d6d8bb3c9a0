"""Progress reporting: reports with revisions, review (submit → approve | return → resubmit),
period locks, qualitative task status, and the change history.

One module per concept: `submissions` (reports and their revisions, uploads, history), `review`
(approve, return), `locks` (period locks), `task_status`, `official` (official values), `changes`
(the history record, event and commit of a change), `validation` (the rules a report must pass),
`events` (the integration events), `republish`."""
