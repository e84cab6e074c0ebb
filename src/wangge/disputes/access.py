"""Who may see and do what with disputes. The only place that decides it.

To be built (helper "core"); the signatures below are the contract other modules use.

- A dispute is seen by its grid's chain (the territory roles whose subtree holds the
  dispute's grid: `org.access.TERRITORY_READ_ROLES`, so a grid worker sees their own grid's),
  by every mediator ever assigned to it (`Assignment`), by the mediators of the body that
  handles it now (MEDIATOR role on `handling_grid` or above), and by the center.
  Line departments see none (a department referral reaches them as a case).
- A sensitive dispute (its kind's default, or marked): only its recorder, the mediators
  assigned to it, and admins. Everyone else: it is left out of every list, page and count
  that names records (aggregate numbers still count it).
- Parties' names are masked in lists and exports; whole (and outsiders' phones opened, each
  read logged with its purpose) only on the record's page for those who may mediate it or
  recorded it.
"""

from __future__ import annotations

from django.db.models import QuerySet

from wangge.disputes.models import Dispute, Screening
from wangge.org.access import AnyUser
from wangge.org.models import Person
from wangge.territory.models import Grid


def visible_disputes(user: AnyUser) -> QuerySet[Dispute]:
    raise NotImplementedError


def access_dispute(user: AnyUser, pk: int) -> Dispute:
    """The dispute, or Http404 (the same answer for "not yours" and "no such")."""
    raise NotImplementedError


def visible_screenings(user: AnyUser) -> QuerySet[Screening]:
    raise NotImplementedError


def can_record(user: AnyUser, grid: Grid) -> bool:
    """Record a screening or a dispute in this basic grid: its grid worker, a mediator,
    workstation / sub-center staff or dispatcher whose subtree holds it."""
    raise NotImplementedError


def can_mediate(user: AnyUser, dispute: Dispute) -> bool:
    """Take up, record sessions, agree, refer, escalate, withdraw: the assigned mediator, a
    mediator of the handling body, or the handling grid's staff (workstation / sub-center /
    center) — for a dispute at level `grid` also the grid's own worker (they mediate with
    the mediator at the doorstep)."""
    raise NotImplementedError


def sees_parties(user: AnyUser, dispute: Dispute) -> bool:
    """Whole names and the reveal of outsiders' contact data."""
    raise NotImplementedError


def mediators_for(grid: Grid) -> QuerySet[Person]:
    """People holding a current MEDIATOR role on this grid exactly (the body at its level)."""
    raise NotImplementedError


def screening_grids(user: AnyUser) -> QuerySet[Grid]:
    """The basic grids in the user's scope that must screen (every level-4 grid)."""
    raise NotImplementedError
