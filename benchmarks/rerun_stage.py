"""Run one stage (dedupe or group) of a finished run again, alone, on a copy of its database.

    PYTHONPATH=. python benchmarks/rerun_stage.py DB dedupe|group [PROFILE [CONFIG]]

DB is the database of a finished ``briefs run`` (``run.py --keep`` keeps it; CONFIG, default
``briefs.toml`` beside DB, gives the group settings). The copy is reset to before the stage (no
stories; for dedupe also no copies linked and an empty band index), then the stage runs in this
process: its CPU seconds and the growth of the peak RSS it causes are printed, and a checksum
of what it wrote (compare two source trees: same checksum, same result). With PROFILE, a
cProfile of the stage (process CPU time) is written there. The machine's load does not change
the memory figure and changes CPU seconds less than wall times.
"""

import datetime as dt
import hashlib
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time

src, stage = sys.argv[1], sys.argv[2]
db = f"{tempfile.gettempdir()}/briefs-rerun-{stage}-{os.getpid()}.db"
shutil.copy(src, db)
con = sqlite3.connect(db)
con.execute("update articles set story_id = NULL")
con.execute("delete from story_links")
con.execute("delete from story_changes")
con.execute("delete from stories")
if stage == "dedupe":
    con.execute("delete from sketch_bands")
    con.execute("update articles set duplicate_of = NULL")
con.commit()
con.execute("vacuum")
con.close()

import briefs.group  # noqa: E402  (imports outside the figures)
import briefs.ingest.dedupe  # noqa: E402,F401
from briefs.config import load_config  # noqa: E402
from briefs.grouping import group_pending  # noqa: E402
from briefs.ingest.copies import link_pending  # noqa: E402
from briefs.store import open_store  # noqa: E402

store = open_store(db)
# the end of the day run.py's corpus is built for (its edition date, 2025-03-11)
now = dt.datetime(2025, 3, 11, 23, 59, tzinfo=dt.UTC)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cpu0 = time.process_time()
prof = None
if len(sys.argv) > 3:
    import cProfile

    prof = cProfile.Profile(time.process_time)
    prof.enable()
if stage == "dedupe":
    result = link_pending(store, now, set())
else:
    cfg = load_config(
        sys.argv[4] if len(sys.argv) > 4 else os.path.join(os.path.dirname(src), "briefs.toml")
    )
    result = group_pending(cfg, store)
if prof:
    prof.disable()
    prof.dump_stats(sys.argv[3])
cpu = time.process_time() - cpu0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{stage}: result {result} cpu {cpu:.2f} s; maxrss {before:.0f} -> {after:.0f} MB")
con = sqlite3.connect(db)
for query in (
    "select id, duplicate_of, story_id from articles order by id",
    "select * from story_links order by 1, 2",
    "select id, title, first_seen, last_updated from stories order by id",
    "select * from sketch_bands order by 1, 2",
):
    digest = hashlib.sha1(repr(con.execute(query).fetchall()).encode()).hexdigest()[:16]
    print(f"  {query.split(' from ')[1].split()[0]:<14} {digest}")
con.close()
os.remove(db)
