"""Build the scale data set: the real native registry exports copied until they hold about M
credit-event rows (default 1,000,000, the size of the five registries' ledgers together).

Every copy is a faithful registry: copy ``i`` has its own project IDs (the real ID plus
``i * 100,000``) in its projects file and in every event file, and serial numbers no other copy
has; dates, vintages and quantities are the real ones. So each vintage is issued once per project,
as in a real export (an earlier version moved many copies onto the same projects with shifted
issuance dates, which gave every project ~60 batches of the same vintage: a data set no registry
produces). The number of projects follows: the base samples' projects times the copies. Headers,
quirks, number and date formats are kept byte for byte.

    python -m benchmarks.scale_data OUT_DIR [--events 1000000]
"""

from __future__ import annotations

import argparse
import csv
import math
import re
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "registries" / "native"

# registry folder -> (id column, prefix, serial column or None, event files)
LAYOUT = {
    "verra": ("ID", "", "Serial Number", ["transactions.csv"], "projects.csv"),
    "gold-standard": ("GSID", "", "Serial Number", ["issuances.csv", "retirements.csv"], "projects.csv"),
    "american-carbon-registry": ("Project ID", "ACR", "Credit Serial Numbers", ["issuances.csv", "retirements.csv", "cancellations.csv"], "projects.csv"),
    "climate-action-reserve": ("Project ID", "CAR", "Offset Credit Serial Numbers", ["issuances.csv", "retirements.csv", "cancellations.csv"], "projects.csv"),
    "art-trees": ("Program ID", "ART", "Credit Serial Numbers", ["issuances.csv", "retirements.csv", "cancellations.csv"], "projects.csv"),
}
ID_STRIDE = 100_000


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
    if not serial:
        return serial
    m = re.match(r"^(\d+)-(\d+)-(\d+)-(.*)$", serial)  # Verra: block-start-end-rest
    if m:
        return f"{m.group(1)}{copy:05d}-{m.group(2)}-{m.group(3)}-{m.group(4)}"
    m = re.match(r"^(.*)-(\d+)-(\d+)$", serial)  # Gold Standard: ...-start-end
    if m:
        return f"{m.group(1)}X{copy}-{m.group(2)}-{m.group(3)}"
    m = re.match(r"^(.*)-(\d+ to \d+)$", serial)  # APX: PREFIX-start to end
    if m:
        return f"{m.group(1)}X{copy}-{m.group(2)}"
    return f"{serial}-X{copy}"


def build(out: Path, events: int = 1_000_000) -> dict:
    base_projects, base_events = 0, 0
    data = {}
    for reg, (id_col, prefix, serial_col, event_files, proj_file) in LAYOUT.items():
        ph, pr = _read(NATIVE / reg / proj_file)
        ids = {r[ph.index(id_col)] for r in pr}
        files = {}
        for f in event_files:
            h, rows = _read(NATIVE / reg / f)
            files[f] = (h, rows)
            ids |= {r[h.index(id_col)] for r in rows}
            base_events += len(rows)
        base_projects += len(ids)
        data[reg] = (ph, pr, files)
    copies = max(1, math.ceil(events / base_events))
    counts = {"projects_files_rows": 0, "event_rows": 0, "copies": copies, "projects": base_projects * copies}
    for reg, (ph, pr, files) in data.items():
        id_col, prefix, serial_col, _, proj_file = LAYOUT[reg]
        ic = ph.index(id_col)

        def project_rows():
            for rep in range(copies):
                for r in pr:
                    r = list(r)
                    r[ic] = _new_id(r[ic], prefix, rep)
                    yield r

        counts["projects_files_rows"] += _write(out / reg / proj_file, ph, project_rows())
        for f, (h, rows) in files.items():
            ic2 = h.index(id_col)
            sc = h.index(serial_col) if serial_col in h else None

            def event_rows(h=h, rows=rows, ic2=ic2, sc=sc):
                for copy in range(copies):
                    for r in rows:
                        r = list(r)
                        r[ic2] = _new_id(r[ic2], prefix, copy)
                        if sc is not None:
                            r[sc] = _new_serial(r[sc], copy)
                        yield r

            counts["event_rows"] += _write(out / reg / f, h, event_rows())
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    print(build(args.out, args.events))


if __name__ == "__main__":
    main()
