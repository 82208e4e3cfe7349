"""The `citynode` command as outside tools use it: real processes, real files, a real server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import urllib.request
from pathlib import Path

from tests.cli_support import citynode, served
from tests.drafts import practice, result

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "citynode" / "samples"


def test_init_publish_export_withdraw(home: Path, tmp_path: Path) -> None:
    drafts = tmp_path / "drafts.jsonld"
    drafts.write_text(json.dumps([practice("wifi"), result("wifi-result", of="wifi")]))
    out = citynode("publish", "--home", str(home), str(drafts)).stdout
    assert "/records/wifi\tversion 1\tcreated" in out
    assert "/records/wifi-result\tversion 1\tcreated" in out
    again = citynode("publish", "--home", str(home), str(drafts)).stdout
    assert "/records/wifi\tversion 1\tunchanged" in again
    exported = json.loads(citynode("export", "--home", str(home), "--format", "jsonld").stdout)
    assert {r["id"].rsplit("/", 1)[1] for r in exported} == {"wifi", "wifi-result"}
    turtle = citynode("export", "--home", str(home), "--format", "turtle").stdout
    assert "cn:Project" in turtle and "cn:resultOf" in turtle
    nquads = citynode("export", "--home", str(home), "--format", "nquads").stdout
    assert nquads.count("\n") > 10 and "/records/wifi>" in nquads
    csv_text = citynode("export", "--home", str(home), "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("\ufeffslug,type,status")  # the import template
    assert len(csv_text.splitlines()) == 2
    results = citynode("export", "--home", str(home), "--format", "results-csv").stdout
    assert results.splitlines()[1].startswith("wifi-result,wifi,completed")
    replica = citynode("export", "--home", str(home), "--format", "csv", "--origin", "all")
    assert replica.stdout.splitlines()[0].startswith("\ufefforigin,id,slug")
    withdrawn = citynode("withdraw", "--home", str(home), "wifi-result", "--reason", "duplicado")
    assert "version 2\twithdrawn" in withdrawn.stdout


def test_publish_samples_folder(home: Path) -> None:
    out = citynode("publish", "--home", str(home), str(SAMPLES / "medellin")).stdout
    assert out.count("\tcreated") >= 18


def test_publish_reports_the_file_and_writes_nothing_on_error(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "a.jsonld"
    good.write_text(json.dumps(practice("good")))
    bad = tmp_path / "b.jsonld"
    bad.write_text(json.dumps({**practice("bad"), "colour": "red"}))
    done = citynode("publish", "--home", str(home), str(good), str(bad), check=False)
    assert done.returncode == 1
    assert "colour" in done.stderr and "nothing was published" in done.stderr
    broken = tmp_path / "c.jsonld"
    broken.write_text('{"type": ')
    done = citynode("publish", "--home", str(home), str(broken), check=False)
    assert done.returncode == 1 and "c.jsonld is not valid JSON" in done.stderr
    database = sqlite3.connect(home / "citynode.db")
    assert database.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0


def test_verify_a_file_and_a_url_against_the_running_node(home: Path, tmp_path: Path) -> None:
    drafts = tmp_path / "d.jsonld"
    drafts.write_text(json.dumps(practice("medata")))
    citynode("publish", "--home", str(home), str(drafts))
    with served(home) as (_, url):
        done = citynode("verify", "--home", str(home), f"{url}/records/medata")
        assert "signature: holds" in done.stdout and "#key-1" in done.stdout
        exported = json.loads(citynode("export", "--home", str(home), "--format", "jsonld").stdout)
        record = tmp_path / "record.json"
        record.write_text(json.dumps(exported[0]))
        assert "signature: holds" in citynode("verify", "--allow-private", str(record)).stdout
        exported[0]["title"]["es"] = "Cambiado"
        record.write_text(json.dumps(exported[0]))
        done = citynode("verify", "--allow-private", str(record), check=False)
        assert done.returncode == 1 and "signature_mismatch" in done.stdout
        # Without leave, loopback and private addresses are refused, as the node refuses them:
        # the record URL itself, and the publisher's DID document a record file points at.
        done = citynode("verify", f"{url}/records/medata", check=False)
        assert done.returncode == 1 and "loopback address" in done.stderr, done
        done = citynode("verify", str(record), check=False)
        assert done.returncode == 1 and "loopback address" in done.stdout, done.stdout
        for private in ("http://10.1.2.3/records/x", "https://169.254.169.254/latest"):
            done = citynode("verify", private, check=False)
            assert done.returncode == 1 and "does not contact" in done.stderr + done.stdout, done


def test_acknowledged_write_survives_a_crash(home: Path) -> None:
    token = citynode("token", "create", "--home", str(home)).stdout.strip()
    with served(home) as (process, url):
        request = urllib.request.Request(
            f"{url}/api/records",
            data=json.dumps(practice("durable")).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        # SIGKILL: no clean shutdown, no checkpoint; only what was committed survives.
        os.kill(process.pid, signal.SIGKILL)
    database = sqlite3.connect(home / "citynode.db")
    rows = database.execute("SELECT id, version FROM current").fetchall()
    assert [(r[0].rsplit("/", 1)[1], r[1]) for r in rows] == [("durable", 1)]


def test_key_rotation_keeps_old_records_verifiable(home: Path, tmp_path: Path) -> None:
    drafts = tmp_path / "d.jsonld"
    drafts.write_text(json.dumps(practice("old")))
    citynode("publish", "--home", str(home), str(drafts))
    citynode("key", "rotate", "--home", str(home))
    drafts.write_text(json.dumps(practice("new")))
    citynode("publish", "--home", str(home), str(drafts))
    with served(home) as (_, url):
        old = citynode("verify", "--home", str(home), f"{url}/records/old").stdout
        new = citynode("verify", "--home", str(home), f"{url}/records/new").stdout
        assert "#key-1" in old and "signature: holds" in old
        assert "#key-2" in new and "signature: holds" in new
    citynode("key", "revoke", "--home", str(home), "key-1", "--at", "2000-01-01T00:00:00Z")
    with served(home) as (_, url):
        done = citynode("verify", "--home", str(home), f"{url}/records/old", check=False)
        assert done.returncode == 1 and "key_revoked" in done.stdout


def test_errors_name_the_problem(tmp_path: Path) -> None:
    done = citynode("publish", "--home", str(tmp_path / "nowhere"), "x.jsonld", check=False)
    assert done.returncode == 1 and "citynode init" in done.stderr
    done = citynode(
        "init",
        "--home",
        str(tmp_path / "n"),
        "--url",
        "ftp://x",
        "--name",
        "X",
        "--country",
        "CO",
        check=False,
    )
    assert done.returncode == 1 and "--url" in done.stderr


def test_publish_the_csv_templates(home: Path) -> None:
    out = citynode("publish", "--home", str(home), str(SAMPLES / "templates")).stdout
    assert out.count("\tcreated") >= 3
    practices = citynode("export", "--home", str(home), "--format", "csv").stdout
    results = citynode("export", "--home", str(home), "--format", "results-csv").stdout
    shipped = (SAMPLES / "templates" / "practices.csv").read_text("utf-8")
    assert practices.splitlines()[0] == shipped.splitlines()[0]  # the template's own header
    result_slugs = {line.split(",")[0] for line in results.splitlines()[1:]}
    assert len(practices.splitlines()) - 1 + len(result_slugs) == out.count("\tcreated")


def test_search_prints_a_readable_table(home: Path) -> None:
    citynode("publish", "--home", str(home), str(SAMPLES / "medellin"))
    out = citynode("search", "--home", str(home), "wifi", "parques").stdout
    lines = out.splitlines()
    assert lines[0].endswith("records") and int(lines[0].split()[0].rstrip("+")) >= 1
    assert "  1. " in out and "[" in lines[1] and "Medellín CO" in lines[1]
    assert "signature verified" in out
    narrowed = citynode("search", "--home", str(home), "--facet", "type=Policy", "internet").stdout
    assert all(
        "[Policy," in line for line in narrowed.splitlines() if line[:5].strip().endswith(".")
    )
    odd = citynode("search", "--home", str(home), '"unbalanced (NEAR -*').stdout
    assert "records" in odd.splitlines()[0]
    bad = citynode("search", "--home", str(home), "--facet", "colour=red", "x", check=False)
    assert bad.returncode == 1 and "not a facet" in bad.stderr
    typed = citynode(
        "search",
        "--home",
        str(home),
        "--facet",
        "theme=connectivity",
        "--facet",
        "sdg_goal=9",
        "--lang",
        "en",
    ).stdout
    assert "Minimum Vital Internet" in typed
    unknown = citynode("search", "--home", str(home), "--facet", "status=nope", check=False)
    assert unknown.returncode == 1 and "ongoing" in unknown.stderr


def test_reindex_rebuilds_the_index_from_the_store(home: Path) -> None:
    citynode("publish", "--home", str(home), str(SAMPLES / "medellin"))
    before = citynode("search", "--home", str(home), "internet").stdout.splitlines()[0]
    out = citynode("reindex", "--home", str(home)).stdout
    assert out.startswith("indexed ") and "records" in out
    assert citynode("search", "--home", str(home), "internet").stdout.splitlines()[0] == before
