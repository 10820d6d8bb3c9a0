"""Database access: one engine per process, sessions per request, migrations on start-up."""

from minsheng.db.engine import Database, SessionDep, get_session, request_plan, session_plan

__all__ = ["Database", "SessionDep", "get_session", "request_plan", "session_plan"]
