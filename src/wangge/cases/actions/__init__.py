"""Every write to a case: intake (上报 and 挂号), the transitions of the closed loop, the SLA
clocks, notifications and the configuration that is data. Each `do_*` runs in one
transaction, appends to the timeline and writes an outbox row; nothing else writes the
cases models.

One module per area, in the manner of Zulip's `zerver/actions`; callers use the names
re-exported here (`from wangge.cases import actions; actions.do_transition(...)`).
"""

from wangge.cases.actions.clocks import (
    do_clock_breaches,
    do_clock_warnings,
    do_fill_clock_deadlines,
    supervision_deadline,
)
from wangge.cases.actions.config import (
    do_delete_duty_rule,
    do_seed_classification,
    do_seed_inspection_items,
    do_seed_public_categories,
    do_set_duty_rule,
)
from wangge.cases.actions.intake import (
    do_add_photos,
    do_report,
    report_or_replay,
)
from wangge.cases.actions.loop import (
    do_assignment_feedback,
    do_close_assignment,
    do_consult,
    do_merge,
    do_supervise,
    do_transition,
)
from wangge.cases.actions.notifications import do_mark_notifications_read, do_notify
from wangge.cases.actions.rating import do_rate, feedback_rule
from wangge.cases.actions.resident import (
    Contact,
    Extras,
    Where,
    do_public_follow,
    do_resident_report,
    nearby_open,
)

__all__ = [
    "Contact",
    "Extras",
    "Where",
    "do_add_photos",
    "do_assignment_feedback",
    "do_clock_breaches",
    "do_clock_warnings",
    "do_close_assignment",
    "do_consult",
    "do_delete_duty_rule",
    "do_fill_clock_deadlines",
    "do_mark_notifications_read",
    "do_merge",
    "do_notify",
    "do_public_follow",
    "do_rate",
    "do_report",
    "do_resident_report",
    "do_seed_classification",
    "do_seed_inspection_items",
    "do_seed_public_categories",
    "do_set_duty_rule",
    "do_supervise",
    "do_transition",
    "feedback_rule",
    "nearby_open",
    "report_or_replay",
    "supervision_deadline",
]
