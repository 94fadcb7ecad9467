"""Read-only queries behind the published documents; they return values, never table rows.

policy/ builds the copyright policy, the crawler information and the training-content summary
from what these functions return, and never reads the audit tables itself: the SQL, and the
knowledge of the schema it needs, stays in audit/, where a migration can change both together.

* :mod:`.runs` — the crawl runs with their recorded settings, policies, denylist versions and
  action counters (the copyright policy and the crawler information);
* :mod:`.scope` — which runs, and which of their stored items, a summary counts;
* :mod:`.items` — the stored items in scope, totalled per domain and per kind, and the signals
  behind them;
* :mod:`.exclusions` — what a reservation or access control kept out, per reason;
* :mod:`.domains` — the public look-up of a registrable domain (``heed serve``): aggregates per
  host and month, its signal documents and what they meant, content kept after a reservation
  (values in :mod:`.domainview`, folded in :mod:`.domainfold`);
* :mod:`.summary` — the summary's four queries, run in one transaction, as :class:`SummaryData`.

The public names are exported by :mod:`audit` (loaded on first use).
"""
