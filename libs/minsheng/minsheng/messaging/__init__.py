"""Integration events between processes: CloudEvents, a transactional outbox and its relay to Kafka,
and idempotent consumers.

Producing (a campaign service):
    add_event(session, topic=topic_for("education"), key="T002-1", event=IntegrationEvent(...))
    in the same transaction as the change, and `create_app(background=[run_relay_process])`
    (`relay_process.py`: the relay, `relay.py`'s `OutboxRelay`, in a child process).

Consuming (the gateway):
    an `EventConsumer` with `EventHandlers`: one handler per event data model, each given the runs of
    its events in the consumer's transaction.

Tables: OUTBOX_TABLES and CONSUMER_TABLES, both in the kernel's Alembic branch "messaging".
"""

from minsheng.messaging.consumer import (
    CONSUMER_TABLES,
    EventConsumer,
    EventHandlers,
    Handler,
    PollResult,
    ProcessedEvent,
)
from minsheng.messaging.events import (
    IntegrationEvent,
    UnknownEventType,
    data_model_for,
    event_source,
    register_event,
    registered_event_types,
    retire_event,
    topic_for,
)
from minsheng.messaging.outbox import OUTBOX_TABLES, OutboxEvent, add_event, add_events
from minsheng.messaging.relay import (
    BatchResult,
    OutboxRelay,
    outbox_stats,
    publish_pending_events,
    wake_relay,
)

MESSAGING_BRANCH = "messaging"  # the kernel Alembic branch holding outbox_event and processed_event
MESSAGING_TABLES = OUTBOX_TABLES | CONSUMER_TABLES

__all__ = [
    "BatchResult",
    "CONSUMER_TABLES",
    "EventConsumer",
    "EventHandlers",
    "Handler",
    "IntegrationEvent",
    "MESSAGING_BRANCH",
    "MESSAGING_TABLES",
    "OUTBOX_TABLES",
    "OutboxEvent",
    "OutboxRelay",
    "PollResult",
    "ProcessedEvent",
    "UnknownEventType",
    "add_event",
    "add_events",
    "data_model_for",
    "event_source",
    "outbox_stats",
    "publish_pending_events",
    "register_event",
    "registered_event_types",
    "retire_event",
    "topic_for",
    "wake_relay",
]
