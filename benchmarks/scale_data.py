"""Build the scale data set: the real native registry exports grown to about N projects and M
credit-event rows (default 11,000 / 1,000,000, the five registries' size together), faithfully.

* Every copy is a faithful registry: copy ``r`` of each registry has its own project IDs (the real
  ID plus ``r * 100,000``) in its projects file and in every event file, and serial numbers no other
  copy has; dates, vintages and quantities are the real ones. Each vintage is issued once per
  project, as in a real export. (An earlier version moved many copies onto the same projects with
  shifted issuance dates, so every project had ~60 batches of the same vintage: a data set no
  registry produces.)
* Events grow the way real ledgers do: a retirement or cancellation block of the samples is split
  into up to ``K`` smaller blocks that partition its serial range and add up to its quantity (real
  registries record thousands of small retirements per vintage). Issuances are never split or
  repeated, so every copy's totals are exactly the sample's, and the set can be checked against it.
  ``K`` is chosen so the event rows reach M.

Headers, quirks, number and date formats are kept byte for byte.

    python -m benchmarks.scale_data OUT_DIR [--projects 11000] [--events 1000000]
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "registries" / "native"

# registry folder -> (id column, prefix, serial column or None, event files, projects file)
LAYOUT = {
    "verra": ("ID", "", "Serial Number", ["transactions.csv"], "projects.csv"),
    "gold-standard": ("GSID", "", "Serial Number", ["issuances.csv", "retirements.csv"], "projects.csv"),
    "american-carbon-registry": (
        "Project ID",
        "ACR",
        "Credit Serial Numbers",
        ["issuances.csv", "retirements.csv", "cancellations.csv"],
        "projects.csv",
    ),
    "climate-action-reserve": (
        "Project ID",
        "CAR",
        "Offset Credit Serial Numbers",
        ["issuances.csv", "retirements.csv", "cancellations.csv"],
        "projects.csv",
    ),
    "art-trees": (
        "Program ID",
        "ART",
        "Credit Serial Numbers",
        ["issuances.csv", "retirements.csv", "cancellations.csv"],
        "projects.csv",
    ),
}
ID_STRIDE = 100_000
# Files and columns of retirement-type rows (split into smaller blocks), and the column whose
# non-empty value marks such a row in a mixed file (Verra's blocks are issued, then maybe retired).
SPLIT = {
    ("verra", "transactions.csv"): ("Quantity Issued", "Retirement/Cancellation Date"),
    ("gold-standard", "retirements.csv"): ("Quantity", None),
    ("american-carbon-registry", "retirements.csv"): ("Quantity of Credits", None),
    ("american-carbon-registry", "cancellations.csv"): ("Quantity of Credits", None),
    ("climate-action-reserve", "retirements.csv"): ("Quantity of Offset Credits", None),
    ("climate-action-reserve", "cancellations.csv"): ("Quantity of Offset Credits", None),
    ("art-trees", "retirements.csv"): ("Quantity of Credits", None),
    ("art-trees", "cancellations.csv"): ("Quantity of Credits", None),
}
SERIAL_FORMS = (
    re.compile(r"^(?P<pre>\d+)-(?P<start>\d+)-(?P<end>\d+)-(?P<post>.*)$"),  # Verra: block-start-end-rest
    re.compile(r"^(?P<pre>.*)-(?P<start>\d+) to (?P<end>\d+)$"),  # APX: PREFIX-start to end
    re.compile(r"^(?P<pre>.*)-(?P<start>\d+)-(?P<end>\d+)$"),  # Gold Standard: ...-start-end
)


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(r)
            n += 1
    return n


def _new_id(value: str, prefix: str, replica: int) -> str:
    num = int(re.sub(r"\D", "", value.split(".")[0]))
    return f"{prefix}{num + ID_STRIDE * replica}"


def _new_serial(serial: str, copy: int) -> str:
    """Make the block unique to this copy while keeping its quantity: tag the prefix, not the range."""
    return _sub_serial(serial, copy, None, None)


def _sub_serial(serial: str, copy: int, start: int | None, end: int | None) -> str:
    """``serial`` tagged with ``copy`` (and, given ``start``/``end``, narrowed to that sub-range)."""
    if not serial:
        return serial
    for i, form in enumerate(SERIAL_FORMS):
        m = form.match(serial)
        if not m:
            continue
        s0, e0 = (m["start"], m["end"]) if start is None else (str(start), str(end))
        if i == 0:
            return f"{m['pre']}{copy:05d}-{s0}-{e0}-{m['post']}"
        if i == 1:
            return f"{m['pre']}X{copy}-{s0} to {e0}"
        return f"{m['pre']}X{copy}-{s0}-{e0}"
    return f"{serial}-X{copy}"


def _quantity(text: str) -> int | None:
    try:
        return int(text.replace(",", "").split(".")[0])
    except ValueError:
        return None


def _fmt(q: int, like: str) -> str:
    return f"{q:,}" if "," in like else str(q)


def _split(row: list[str], qc: int, sc: int | None, parts: int, copy: int) -> list[list[str]]:
    """A block split into up to ``parts`` blocks that partition its serial range and quantity."""
    q = _quantity(row[qc])
    rng = None
    if sc is not None:
        for form in SERIAL_FORMS:
            m = form.match(row[sc])
            if m:
                rng = (int(m["start"]), int(m["end"]))
                break
    if not q or q < 2 or parts < 2 or rng is None or rng[1] - rng[0] + 1 != q:
        out = list(row)
        if sc is not None:
            out[sc] = _new_serial(out[sc], copy)
        return [out]
    n = min(parts, q)
    size, extra = divmod(q, n)
    rows, start = [], rng[0]
    for i in range(n):
        k = size + (1 if i < extra else 0)
        r = list(row)
        r[qc] = _fmt(k, row[qc])
        r[sc] = _sub_serial(row[sc], copy, start, start + k - 1)
        rows.append(r)
        start += k
    return rows


def _rows_at(parts: int, data: dict, replicas: int) -> int:
    n = 0
    for reg, (_ph, _pr, files) in data.items():
        for f, (h, rows) in files.items():
            spec = SPLIT.get((reg, f))
            for r in rows:
                if spec is None or (spec[1] and not r[h.index(spec[1])]):
                    n += 1
                else:
                    q = _quantity(r[h.index(spec[0])]) or 1
                    n += min(parts, max(q, 1))
    return n * replicas


def build(out: Path, projects: int = 11_000, events: int = 1_000_000) -> dict:
    base_projects = 0
    data = {}
    for reg, (id_col, _prefix, _serial_col, event_files, proj_file) in LAYOUT.items():
        ph, pr = _read(NATIVE / reg / proj_file)
        ids = {r[ph.index(id_col)] for r in pr}
        files = {}
        for f in event_files:
            h, rows = _read(NATIVE / reg / f)
            files[f] = (h, rows)
            ids |= {r[h.index(id_col)] for r in rows}
        base_projects += len(ids)
        data[reg] = (ph, pr, files)
    replicas = max(1, round(projects / base_projects))
    parts = 1
    while _rows_at(parts, data, replicas) < events and parts < 100_000:
        parts = parts * 2 if _rows_at(parts * 2, data, replicas) < events else parts + max(1, parts // 8)
    counts = {
        "projects_files_rows": 0,
        "event_rows": 0,
        "copies": replicas,
        "split_parts": parts,
        "projects": base_projects * replicas,
    }
    for reg, (ph, pr, files) in data.items():
        id_col, prefix, serial_col, _, proj_file = LAYOUT[reg]
        ic = ph.index(id_col)

        def project_rows(pr=pr, ic=ic, prefix=prefix):
            for rep in range(replicas):
                for r in pr:
                    r = list(r)
                    r[ic] = _new_id(r[ic], prefix, rep)
                    yield r

        counts["projects_files_rows"] += _write(out / reg / proj_file, ph, project_rows())
        for f, (h, rows) in files.items():
            ic2 = h.index(id_col)
            sc = h.index(serial_col) if serial_col in h else None
            spec = SPLIT.get((reg, f))
            qc = h.index(spec[0]) if spec else None
            mark = h.index(spec[1]) if spec and spec[1] else None

            def event_rows(h=h, rows=rows, ic2=ic2, sc=sc, spec=spec, qc=qc, mark=mark, prefix=prefix):
                for copy in range(replicas):
                    for r in rows:
                        r = list(r)
                        r[ic2] = _new_id(r[ic2], prefix, copy)
                        if spec is not None and (mark is None or r[mark]):
                            yield from _split(r, qc, sc, parts, copy)
                            continue
                        if sc is not None:
                            r[sc] = _new_serial(r[sc], copy)
                        yield r

            counts["event_rows"] += _write(out / reg / f, h, event_rows())
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--projects", type=int, default=11_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    print(build(args.out, args.projects, args.events))


if __name__ == "__main__":
    main()
