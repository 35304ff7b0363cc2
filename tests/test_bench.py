"""bench/run, the README's one benchmark command, end to end on a small
scale: it runs every scenario against one emulator behind bench/netdelay.py
and writes its JSON, table and chart.  Only request counts, correctness and
memory bounds are asserted, never times."""
import json
import os
import subprocess

from testenv import ROOT

N, HUGE = 2000, 3000


def test_bench_run_writes_every_figure_with_its_request_counts(tmp_path):
    out = tmp_path / "results"
    r = subprocess.run([os.path.join(ROOT, "bench", "run"), "--tickets", str(N),
                        "--grep-tickets", "500", "--creates", "20", "--comments", "20",
                        "--curl-loop", "3", "--scan-findings", "50",
                        "--scan-peer-findings", "50", "--huge-tickets", str(HUGE),
                        "--rtt-ms", "4", "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    # 1 would be a target missed by a ratio of times: not this test's business
    assert r.returncode in (0, 1), r.stdout + r.stderr
    res = json.load(open(out / "latest.json"))
    assert res["rtt_ms"] == 4 and res["latency_ms"] == 0
    f = res["figures"]
    assert set(f) == set("abcdefghi")
    a = f["a"]
    assert a["files"] == N
    assert a["cold_requests"]["searches"] <= a["search_target"]
    # each of the cold listings (a fresh mount each) and of the curl downloads counted
    assert a["runs"] == len(a["cold_runs"]) == len(a["limit_runs"]) == len(a["warm_runs"]) == 3
    assert all(r["requests"]["searches"] == a["pages"] and r["requests"]["ticket_gets"] == 0
               for r in a["cold_runs"])
    # every page of the cold listing was served pre-rendered (fast page mode) ...
    assert a["warmup_requests"]["searches"] == a["pages"] == a["cold_requests"]["searches"]
    assert a["pre_rendered"] == a["pages"] and a["page_mb"] > 0
    # ... and curl, the limit, downloaded exactly those pages: as many, each 200 and of the
    # size jirafs got, from the same pre-rendered pages
    assert a["limit_pages"] == a["limit_requests"]["searches"] == a["pages"]
    assert a["limit_same_pages"] and a["limit_ok"] == a["pages"]
    assert a["limit_statuses"] == [200]
    assert a["limit_requests"]["pre_rendered"] == a["pages"]
    assert a["limit_requests"]["search_bytes"] == a["cold_requests"]["search_bytes"]
    assert a["limit_requests"]["requests"] == a["pages"]
    assert a["jirafs_cpu_s"] >= 0
    assert a["warm_requests"]["requests"] == 0
    # the local directory beside the warm ls -l holds the same files
    assert a["local_files"] == a["files"] == N
    assert f["b"]["requests"]["ticket_gets"] == 0 and f["b"]["matches"] > 0
    c = f["c"]
    assert c["jirafs_requests"]["creates"] == 20 and c["jirafs_requests"]["requests"] == 20
    assert c["python_jira_requests"]["creates"] == 20
    # curl: one process, one kept-alive connection, every create answered 201
    assert c["curl_created"] == c["curl_answers"] == 20
    assert c["curl_requests"]["creates"] == c["curl_requests"]["requests"] == 20
    assert c["curl_requests"]["connections"] == 1
    assert c["curl_loop_created"] == 3 and c["curl_loop_requests"]["creates"] == 3
    assert c["curl_loop_requests"]["connections"] == 3
    assert f["d"]["requests"]["creates"] == 20
    e = f["e"]
    assert e["requests"]["comments"] == 20 and e["requests"]["requests"] == 20
    assert e["curl_created"] == e["curl_answers"] == 20
    assert e["curl_requests"]["comments"] == e["curl_requests"]["requests"] == 20
    assert e["curl_requests"]["connections"] == 1
    assert f["f"]["requests"]["requests"] <= 3 and f["f"]["changes_seen"] == 10
    # memory: 2 KiB a ticket + 40 MiB
    g = f["g"]
    assert g["bound_mib"] == 2 * N / 1024 + 40 and 0 < g["peak_rss_mib"] <= g["bound_mib"]
    h = f["h"]
    assert h["findings"] == 50
    # the import: one create per finding, one ticket per fingerprint, every key in the result
    assert h["jirafs_requests"]["creates"] == 50
    assert h["tickets"] == h["distinct_fingerprints"] == h["result_keys"] == 50
    assert h["result_counts"]["new"] == 50 and h["result_counts"]["operations"] == 50
    # the same report again: the listing refresh only, nothing queued
    assert h["second_error"] is None, h["second_error"]
    assert h["second_requests"]["requests"] <= 3 and h["second_requests"]["creates"] == 0
    assert h["second_counts"]["unchanged"] == 50 and h["second_counts"]["new"] == 0
    assert h["second_counts"]["operations"] == 0 and h["second_outbox"] == 0
    assert h["one_by_one_requests"]["creates"] == 50
    assert h["one_by_one_requests"]["requests"] == 50
    # python-jira: a search per finding, a create (and its read-back) per missing one
    assert not h["python_jira_scaled"]
    assert h["python_jira_requests"]["searches"] == 50
    assert h["python_jira_requests"]["creates"] == 50
    assert h["python_jira_second_requests"]["searches"] == 50
    assert h["python_jira_second_requests"]["creates"] == 0
    # (i), the big project at a small scale: every name listed, files as in Jira, the
    # searches and the memory bound
    i = f["i"]
    assert i["tickets"] == HUGE
    assert (i["names"], i["closed_names"]) == (HUGE - HUGE // 4, HUGE // 4)
    assert i["names_expected"] + i["closed_expected"] == HUGE
    assert i["spot_checks"] and all(x["ok"] for x in i["spot_checks"]), i["spot_checks"]
    assert i["listed_ok"]
    assert i["requests"]["searches"] <= i["search_target"] == -(-HUGE // res["page_size"]) + 3
    assert i["requests"]["ticket_gets"] == 0
    assert i["bound_mib"] == 2 * HUGE / 1024 + 40 and 0 < i["peak_rss_mib"] <= i["bound_mib"]
    assert len(res["targets"]) == 17
    assert (out / "latest.md").read_text().count("\n| (") == 22
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
