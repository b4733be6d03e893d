"""Task and queue names. Outbox rows carry these strings; workers register tasks under them."""

DELIVER_CASE = "tongban.deliver_case"  # a new case to the responsible district
DELIVER_SUPPLEMENT = "tongban.deliver_supplement"  # supplement handed in, back to it
NOTIFY = "tongban.notify"  # news for one side (status back to the accepting side, ...)
DRAIN = "tongban.drain_deliveries"  # a district queue's new deliveries, applied in batches
RELAY = "tongban.relay_outbox"  # beat: re-publish rows not done within their lease
SUPERVISE = "tongban.supervise"  # beat: mark deadlines due soon or overdue
RECONCILE = "tongban.reconcile"  # beat: ask district systems about quiet cases
CLOSE_MONTHS = "tongban.close_months"  # beat: freeze finished months' statistics
KEEP_PARTIALS = "tongban.keep_partials"  # beat: count open months' figures up to now
TIDY_FILES = "tongban.tidy_files"  # beat: retention and uploads that never committed
PURGE_SECURITY_LOG = "tongban.purge_security_log"  # beat: security log past its retention
CHECKPOINT = "tongban.checkpoint"  # beat: a signed checkpoint of the record, off the database


def district_queue(district_code: str) -> str:
    """The Celery queue for work a district must do: one per district, so one outage stays put."""
    return f"district.{district_code}"


# The task whose new messages may be drained rather than published one by one: a district queue
# gets one drain task, which applies all of them that are waiting (outbox.processing.drain).
# Only rows whose payload says so (DRAINED_FLAG, set when the row is written) are drained.
DRAINED_TASK = DELIVER_CASE
DRAINED_FLAG = "drained"
