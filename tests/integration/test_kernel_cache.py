"""The kernel keeps ticket files' names and attributes for cache_ttl
(fs/lowlevel.c); whatever changes a ticket must invalidate them, so that
stat() never disagrees with what a read returns."""
import errno
import json
import os
import subprocess
import time

import pytest

from mountlib import status, wait_for


def size_matches(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    return st.st_size == len(data), st.st_size, len(data)


def listings(m):
    return status(m)["counters"]["listings"]


def test_own_writes_are_seen_by_stat_at_once(emulator, mount):
    m = mount(emulator, "cache_ttl=3600")
    key = sorted(n for n in os.listdir(m.p("OPS")) if n.endswith(".json"))[0][:-5]
    path = m.p("OPS", f"{key}.json")
    before = os.stat(path).st_size                     # the kernel holds it now
    subprocess.run(f"echo 'seen by stat' >> {path}", shell=True, check=True)
    ok, st_size, read = size_matches(path)
    assert ok and st_size > before, (st_size, read)
    # an overwrite that closes it: the old name is gone at once, the new one is there
    doc = json.load(open(path))
    doc["status"] = "Closed"
    doc["resolution"] = "Done"
    with open(path, "w") as f:
        json.dump(doc, f)
    with pytest.raises(FileNotFoundError):
        os.stat(path)
    assert size_matches(m.p("OPS", "closed", f"{key}.json"))[0]
    os.rename(m.p("OPS", "closed", f"{key}.json"), path)      # reopen
    assert size_matches(path)[0]
    with pytest.raises(OSError) as e:
        os.stat(m.p("OPS", "closed", f"{key}.json"))
    assert e.value.errno == errno.ENOENT


def test_a_refresh_invalidates_what_the_kernel_holds(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "cache_ttl=4")
    keys = sorted((b["key"] for b in emu.issues("SEC")
                   if b["fields"]["status"]["statusCategory"]["key"] != "done"),
                  key=lambda k: int(k.split("-")[1]))
    changed, deleted = f"{keys[0]}.json", f"{keys[1]}.json"
    t0 = time.monotonic()
    with pytest.raises(FileNotFoundError):                   # the listing, without
        os.stat(m.p("SEC", "SEC-9998.json"))                 # telling the kernel of it
    time.sleep(2.5)
    # the kernel takes these for 4 s from now; the listing expires sooner
    s0 = os.stat(m.p("SEC", changed)).st_size
    os.stat(m.p("SEC", deleted))
    emu.set_issue(changed[:-5], fields={"summary": "changed in Jira " + "x" * 100})
    emu.delete_issue(deleted[:-5])
    while time.monotonic() - t0 < 4.2:
        time.sleep(0.1)
    before = listings(m)
    # the refresh, started by a lookup of a name nobody saw (a listing
    # would hand the kernel fresh attributes itself)
    with pytest.raises(FileNotFoundError):
        os.stat(m.p("SEC", "SEC-9999.json"))
    wait_for(lambda: listings(m) != before, 15, "the refresh the lookup started",
             interval=0.05)
    time.sleep(0.2)                                          # the notifier's turn
    assert time.monotonic() - t0 < 6                         # before the kernel's own expiry
    ok, st_size, read = size_matches(m.p("SEC", changed))
    assert ok and st_size > s0, (st_size, read)
    assert "changed in Jira" in open(m.p("SEC", changed)).read()
    with pytest.raises(FileNotFoundError):
        os.stat(m.p("SEC", deleted))
