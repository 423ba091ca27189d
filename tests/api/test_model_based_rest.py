"""The model-based histories of tests/api/test_model_based.py with an HR system's API as
the source, drawn: the emulator plays BambooHR (the preset, its employee id mapped to
employeeNumber, as organisations that number their people do) or HiBob (the preset, a
mobile field added as an admin would), with their disputed readings drawn too; each write
of the HR rows becomes the vendor's own records, changed or deleted through its control
calls. BambooHR's later reads are incremental (changes since the last read), so a person
deleted there is taken to have left only at the next full read, as the preset promises;
HiBob's every read is full. The invariants and the convergence check are the CSV
machine's, with that one allowance."""

from __future__ import annotations

from typing import Any

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize

from hrsync.config import SourceConfig
from hrsync.emulator.hr import variants as hr_variants
from hrsync.sources.rest.presets import preset
from tests.api.test_model_based import ACTIVE_WORDS, Directory
from tests.conftest import BASE

FULL_READ_DAYS = 0.02  # about half an hour: runs come 3 minutes apart, so most reads are not


READINGS = {
    vendor: sorted(v.name for v in hr_variants() if v.name.startswith(vendor + "-"))
    for vendor in ("bamboohr", "hibob")
}


class RestDirectory(Directory):
    """The same HR histories, read from an HR system's API instead of an export."""

    @initialize(
        variants=st.just(frozenset()),
        vendor=st.sampled_from(sorted(READINGS)),
        data=st.data(),
    )
    def an_organisation_in_step(  # type: ignore[override]
        self, variants: set[str], vendor: str, data: st.DataObject
    ) -> None:
        self.vendor = vendor
        readings = data.draw(st.sets(st.sampled_from(READINGS[vendor])))
        self.emulator.variants = frozenset(readings)
        event(f"HR system: {vendor}")
        for name in sorted(readings):
            event(f"emulator plays {name}")
        if vendor == "bamboohr":
            answer = self.http.post(
                f"{BASE}/_emulator/hr/bamboohr/keys",
                json={"key": "model-key", "company": "acme", "access": "full"},
            )
            rest: dict[str, Any] = {
                "base_url": f"{BASE}/bamboohr/acme",
                "auth": {"token": "model-key"},
                "full_read_days": FULL_READ_DAYS,
                "fields": {"employee_id": "employeeNumber"},
            }
        else:
            answer = self.http.post(
                f"{BASE}/_emulator/hr/hibob/service-users",
                json={"id": "SERVICE-MODEL", "token": "model-token", "permissions": ["*"]},
            )
            rest = {
                "base_url": f"{BASE}/hibob",
                "auth": {"username": "SERVICE-MODEL", "password": "model-token"},
                "fields": {"mobile": ["home.mobilePhone", "$['/home/mobilePhone'].value"]},
                "body": {"fields": [*HIBOB_FIELDS, "home.mobilePhone"]},
            }
        assert answer.status_code == 200, answer.text
        source = SourceConfig.model_validate(
            {"kind": "rest", "preset": vendor, "rest": {**rest, "allow_http": True}}
        )
        self.world.settings = self.world.settings.model_copy(update={"source": source})
        self.record_ids: dict[str, int] = {}  # employee id -> BambooHR's own id
        self.published: dict[str, dict[str, Any]] = {}  # what BambooHR holds now
        self.deleted_at: dict[str, float] = {}  # deleted in HR, when
        super().an_organisation_in_step(set())  # Zoho's readings: the CSV machine draws them

    def write(self) -> None:
        """The HR rows as BambooHR holds them: changed records upserted, removed ones
        deleted (each touched record's lastChanged moves, as BambooHR's does)."""
        wanted: dict[str, dict[str, Any]] = {}
        for eid in self.rows:
            if eid not in self.removed:
                wanted[eid] = self.record(eid)
        changed = [r for e, r in wanted.items() if self.published.get(e) != r]
        if changed:
            answer = self.http.post(f"{BASE}/_emulator/hr/{self.vendor}/employees", json=changed)
            assert answer.status_code == 200, answer.text
        for eid in set(self.published) - set(wanted):
            rid = self.record_ids[eid] if self.vendor == "bamboohr" else eid
            answer = self.http.delete(f"{BASE}/_emulator/hr/{self.vendor}/employees/{rid}")
            assert answer.status_code in (200, 204), answer.text
            self.deleted_at[eid] = self.clock.now()
        for eid in set(wanted) & set(self.deleted_at):
            del self.deleted_at[eid]  # back in HR
        self.published = wanted

    def record(self, eid: str) -> dict[str, Any]:
        row = dict(self.rows[eid])
        if eid in self.broken:
            name = self.broken[eid][0]
            row[name] = BREAKS_AT_VENDOR[name]
        if self.vendor == "hibob":
            return _hibob(eid, row)
        rid = self.record_ids.setdefault(eid, 1000 + len(self.record_ids))
        status = row["status"]
        word = "Active" if status in ACTIVE_WORDS else "Inactive"
        manager = row.get("manager_id", "")
        return {
            "id": str(rid),
            "employeeNumber": eid,
            "workEmail": row["email"],
            "firstName": row["first_name"],
            "lastName": row["last_name"],
            "mobilePhone": row.get("mobile", ""),
            "department": row["department"],
            "jobTitle": row["designation"],
            "status": status if status == "Sabbatical" else word,
            "hireDate": row.get("hire_date") or "0000-00-00",
            "terminationDate": row.get("exit_date") or "0000-00-00",
            "supervisorEId": str(self.record_ids.setdefault(manager, 1000 + len(self.record_ids)))
            if manager
            else "",
        }

    def unseen_deletions(self) -> set[str]:
        """People deleted in HR after hrsync's last full read of it: for hrsync, still as
        HR last showed them (a run of any kind may have made that read)."""
        deleted = getattr(self, "deleted_at", {})
        if not deleted:
            return set()
        kept = self.admin.store.bookmark(f"rest:{self.vendor}")
        full_at = float(kept.get("full_at", 0)) if isinstance(kept, dict) else 0.0
        return {eid for eid, at in deleted.items() if at >= full_at}

    def active_in_hr(self, eid: str) -> bool:
        """A person deleted in HR but not yet seen to be is, for hrsync, as HR last showed
        them: still working (they were when deleted)."""
        if eid in self.unseen_deletions():
            self.removed.discard(eid)
            try:
                return super().active_in_hr(eid)
            finally:
                self.removed.add(eid)
        return super().active_in_hr(eid)


# How each broken row reads at the HR system: texts no date format, address or status word
# takes (HiBob's dates are dd/MM/yyyy, so the export's "31/12/2020" would be a date there).
BREAKS_AT_VENDOR = {
    "hire_date": "the first of June",
    "email": "not-an-email",
    "status": "Sabbatical",
    "exit_date": "next week",
}
HIBOB_FIELDS = preset("hibob")["body"]["fields"]


def _hibob(eid: str, row: dict[str, str]) -> dict[str, Any]:
    """A row as HiBob holds it (its dates ISO: the search renders them dd/MM/yyyy)."""
    status = row["status"]
    work: dict[str, Any] = {
        "department": row["department"],
        "title": row["designation"],
        "startDate": row.get("hire_date") or None,
        "reportsTo": row.get("manager_id") or None,
    }
    internal: dict[str, Any] = {
        "status": status
        if status == "Sabbatical"
        else ("Active" if status in ACTIVE_WORDS else "Inactive"),
        "terminationDate": row.get("exit_date") or None,
    }
    return {
        "id": eid,
        "email": row["email"],
        "firstName": row["first_name"],
        "surname": row["last_name"],
        "work": work,
        "internal": internal,
        "home": {"mobilePhone": row.get("mobile", "")},
    }


TestRestDirectory = RestDirectory.TestCase
