"""dlw ui's routes through Starlette's TestClient, on a registry of recorded runs (no training)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from dlworkflow.registry import Registry
from dlworkflow.registry.record import RunRecord
from dlworkflow.ui.app import create_app
from dlworkflow.ui.settings import ServerSettings

WEATHER = "f" * 64
ATTACK = "<script>alert(1)</script>"
LOCAL = "http://127.0.0.1:8765"


def recorded(run_id: str, name: str, value: float | None, *, description: str = "", epochs: int = 5,
             study: dict | None = None, fingerprint: str | None = WEATHER) -> RunRecord:
    return RunRecord(
        id=run_id, name=name, description=description or f"{name} model",
        status="finished" if value is not None else "failed", created_at=f"2025-01-0{run_id[-1]}T12:00:00+00:00",
        test_set={"name": None, "fingerprint": fingerprint},
        primary={"metric": "rmse", "value": value, "baseline": "persistence", "baseline_value": 3.9},
        metrics={"train": {}, "validation": {}, "test": {} if value is None else {"rmse": value}},
        baselines={"persistence": {"test": {"rmse": 3.9}}},
        spec={"name": name, "train": {"epochs": epochs, "batch_size": 32}},
        git={"commit": "c" * 40, "dirty": False}, backend="jax", study=study,
    )


@pytest.fixture
def registry_with_runs(registry_url: str) -> Iterator[Registry]:
    with Registry.open(registry_url) as registry:
        registry.record(recorded("20250101-120000-000001", "dense", 3.5, description=ATTACK), looked_at_test=True,
                        test_set_name="weather_v1")
        registry.record(recorded("20250102-120000-000002", "wide", 3.2, epochs=9), looked_at_test=True,
                        test_set_name="weather_v1")
        registry.record(recorded("20250103-120000-000003", "broken", None), looked_at_test=False,
                        test_set_name="weather_v1")
        for trial in (0, 1):
            registry.record(recorded(f"20250104-12000{trial}-00000{4 + trial}", "tuned", None, fingerprint=None,
                                     study={"name": "weather_tune", "trial": trial, "role": "trial",
                                            "objective": "val_loss", "params": {"train.epochs": 5 + trial},
                                            "objective_value": 1.0 - trial / 10}),
                            looked_at_test=False, test_set_name="")
        folder = registry.run_dir("20250101-120000-000001")
        folder.mkdir(parents=True)
        (folder / "history.csv").write_text("epoch,loss,val_loss\n0,2.0,2.5\n1,1.5,2.1\n")
        yield registry


@pytest.fixture
def client(registry_url: str, registry_with_runs: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(registry=registry_url)), base_url=LOCAL) as client:
        yield client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_the_index_lists_the_runs_with_their_baseline_and_escapes_user_text(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "dense" in page.text and "wide" in page.text and "persistence 3.9" in page.text
    assert ATTACK not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.text.index("wide") < page.text.index("dense")  # best rmse first, as dlw runs
    assert "no test set: tuning trials" in page.text  # the trials have their own section
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_api_runs_is_json_with_the_leaderboards_filtered_and_paged(client):
    boards = client.get("/api/runs").json()["leaderboards"]
    assert [board["test_set_name"] for board in boards] == ["weather_v1", None]
    assert [run["name"] for run in boards[0]["runs"]] == ["wide", "dense", "broken"]
    assert boards[0]["runs"][1]["description"] == ATTACK  # data, as dlw runs --json gives it
    one = client.get("/api/runs", params={"per_page": 1, "page": 2, "test_set": "weather_v1"}).json()["leaderboards"]
    assert [run["name"] for run in one[0]["runs"]] == ["dense"] and one[0]["total"] == 3
    last = client.get("/api/runs", params={"per_page": 2, "page": 2, "test_set": "weather_v1"}).json()["leaderboards"]
    assert [run["name"] for run in last[0]["runs"]] == ["broken"]  # the run without a value, after the valued ones
    failed = client.get("/api/runs", params={"status": "failed", "name": "bro"}).json()["leaderboards"]
    assert [run["name"] for board in failed for run in board["runs"]] == ["broken"]
    newest = client.get("/api/runs", params={"sort": "newest", "until": "2025-01-02"}).json()["leaderboards"]
    assert [run["name"] for run in newest[0]["runs"]] == ["wide", "dense"]


def test_a_bad_filter_is_one_clear_400(client):
    answer = client.get("/api/runs", params={"sort": "worst"})
    assert answer.status_code == 400
    assert "sort" in answer.json()["error"] and "'best'" in answer.json()["error"]


def test_a_run_page_holds_the_report_and_its_curves_and_the_api_the_record(client):
    page = client.get("/runs/20250101-120000-000001")
    assert page.status_code == 200
    assert "Metrics beside the baselines" in page.text and "&lt;script&gt;alert" in page.text
    curves = json.loads(re.search(r'class="curves-data"[^>]*>(.*?)</script>', page.text, re.DOTALL).group(1))
    assert curves["runs"][0]["series"] == {"loss": [2.0, 1.5], "val_loss": [2.5, 2.1]}
    assert client.get("/api/runs/20250101-120000").json()["description"] == ATTACK
    assert client.get("/runs/nope").status_code == 404
    assert client.get("/api/runs/nope").status_code == 404


def test_a_comment_needs_a_post_with_the_pages_csrf_token(client, registry_with_runs):
    run_id = "20250102-120000-000002"
    token = csrf_of(client.get(f"/runs/{run_id}").text)
    assert client.post(f"/runs/{run_id}/comments", data={"text": "forged"}).status_code == 403
    assert client.post(f"/runs/{run_id}/comments", data={"text": "forged", "csrf": "x" * 43}).status_code == 403
    other_site = client.post(f"/runs/{run_id}/comments", data={"text": "forged", "csrf": token},
                             headers={"origin": "http://evil.example"})
    assert other_site.status_code == 403
    assert client.get(f"/runs/{run_id}/comments").status_code == 405
    added = client.post(f"/runs/{run_id}/comments", data={"text": "lr too high?", "csrf": token},
                        follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == f"/runs/{run_id}#comments"
    assert [note.text for note in registry_with_runs.get(run_id).comments] == ["lr too high?"]
    assert "lr too high?" in client.get("/").text  # the COMMENTS column


def test_read_only_refuses_comments(registry_url, registry_with_runs):
    app = create_app(ServerSettings(registry=registry_url, read_only=True))
    with TestClient(app, base_url=LOCAL) as client:
        page = client.get("/runs/20250102-120000-000002").text
        assert 'name="csrf"' not in page and "read-only" in page
        answer = client.post("/runs/20250102-120000-000002/comments", data={"text": "x", "csrf": app.state.csrf.value})
        assert answer.status_code == 403
    assert registry_with_runs.get("20250102-120000-000002").comments == []


def test_static_files_come_from_the_package_only(client):
    assert client.get("/static/uplot/uPlot.iife.min.js").status_code == 200
    for path in ("/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc/passwd",
                 "/static/nothing.js"):
        assert client.get(path).status_code == 404, path


def test_a_loopback_page_answers_only_requests_naming_it(registry_url, registry_with_runs):
    with TestClient(create_app(ServerSettings(registry=registry_url)), base_url="http://attacker.example") as client:
        assert client.get("/").status_code == 400  # DNS rebinding: another name for 127.0.0.1


def test_a_non_loopback_host_requires_the_token(registry_url, registry_with_runs):
    settings = ServerSettings(registry=registry_url, host="0.0.0.0")
    assert settings.token and settings.url.endswith(f"?token={settings.token}")
    with TestClient(create_app(settings), base_url="http://192.0.2.10:8765") as client:
        assert client.get("/").status_code == 401
        assert client.get("/api/runs", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/api/runs", headers={"authorization": f"Bearer {settings.token}"}).status_code == 200
        entered = client.get(f"/?token={settings.token}", follow_redirects=False)
        assert entered.status_code == 303 and "token" not in entered.headers["location"]
        assert client.get("/").status_code == 200  # the cookie keeps it


def test_compare_ranks_the_runs_beside_the_baseline_and_shows_spec_differences(client):
    page = client.get("/compare", params={"runs": "20250101-120000-000001,20250102-120000-000002"})
    assert page.status_code == 200
    ranking = page.text[page.text.index('id="ranking"'):page.text.index("Curves overlaid")]
    assert ranking.index("wide") < ranking.index("dense") and "persistence" in ranking
    differences = page.text[page.text.index('id="spec-differences"'):]
    assert "train.epochs" in differences and "train.batch_size" not in differences
    curves = json.loads(re.findall(r'class="curves-data"[^>]*>(.*?)</script>', page.text, re.DOTALL)[0])
    assert len(curves["runs"]) == 2
    assert client.get("/compare", params={"runs": "20250101-120000-000001"}).status_code == 400


def test_a_study_page_lists_its_trials_parameters_and_objective(client):
    page = client.get("/studies/weather_tune")
    assert page.status_code == 200
    table = page.text[page.text.index('id="trials"'):]
    assert "train.epochs" in table and table.count("<tr>") == 3  # header and two trials
    assert client.get("/studies/nope").status_code == 404


def test_a_running_run_is_listed_with_its_epoch_and_its_curves_follow_it(client, registry_with_runs):
    staging = registry_with_runs.home / "runs" / ".staging-20250105-120000-000009"
    (staging / "checkpoint").mkdir(parents=True)
    header = recorded("20250105-120000-000009", "live", None, epochs=20).to_dict()
    (staging / "owner.json").write_text(json.dumps({"host": "h", "pid": 1, "record": header}))
    (staging / "checkpoint" / "checkpoint.json").write_text(json.dumps(
        {"epoch": 2, "history": [{"loss": 3.0}, {"loss": 2.0}]}))
    assert "2 of 20" in client.get("/").text
    assert client.get("/api/runs").json()["running"][0]["epoch"] == 2
    assert client.get("/api/runs/20250105-120000-000009/curves").json() == {
        "running": True, "epochs": [1, 2], "series": {"loss": [3.0, 2.0]}}
    assert 'data-poll="/api/runs/20250105-120000-000009/curves"' in client.get("/runs/20250105-120000-000009").text
